import type { backend_util } from '@tensorflow/tfjs'

/**
 * A convolution's or pooling's geometry in the field order the addon's
 * ConvShape has (native/src/kernels.h).
 */
export function convShape(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth,
    info.padInfo.top, info.padInfo.left,
    info.dilationHeight, info.dilationWidth,
  ])
}

/** Whether every tensor is float32, the one dtype the addon takes. */
export function allFloat32(...dtypes: string[]): boolean {
  return dtypes.every((d) => d === 'float32')
}
