/** A small seeded generator, so that every run gets the same graph. */
function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
}

export interface CommunityGraph {
  nodes: Array<{ features: number[]; label: string; split: string }>
  edges: Array<[number, number]>
}

/**
 * A stochastic block model: `communities` groups of `size` nodes, an edge
 * within a group with probability `pIn`, across groups with `pOut`. Each
 * node's features are noise with a faint hint of its group, too faint
 * for a per-node classifier; its neighbours, mostly of its own group,
 * make it plain, which is what graph convolution uses. Per group, 20
 * nodes train, 20 validate and the rest are test nodes.
 */
export function communityGraph(communities = 3, size = 100, pIn = 0.08,
  pOut = 0.004, seed = 1): CommunityGraph {
  const random = lcg(seed)
  const n = communities * size
  const group = (i: number) => Math.floor(i / size)
  const width = Math.max(8, communities)

  const nodes = Array.from({ length: n }, (_, i) => {
    const features = Array.from({ length: width }, () => random() * 2 - 1)
    features[group(i)] += 0.5
    const rank = i % size
    const split = rank < 20 ? 'train' : rank < 40 ? 'val' : 'test'
    return { features, label: `community-${group(i)}`, split }
  })

  const edges: Array<[number, number]> = []
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const p = group(a) === group(b) ? pIn : pOut
      if (random() < p) edges.push([a, b])
    }
  }
  return { nodes, edges }
}
