// Importing a custom layer registers it with tfjs serialization, which a
// saved model needs before it can be loaded. Everything that builds or
// loads models imports this.
export { ActivityRegularization } from './activity-regularization.ts'
export { GraphConv, normalizeEdges, type NormalizedEdges } from './graph-conv.ts'
export { GatherNodes, NodeFeatures } from './node-features.ts'
