/**
 * The attack graph of one target VM, as Cytoscape elements (pure; tested under node:test).
 * Rings: the target in the centre, the VMs one firewall rule lets in (direct attackers), and
 * the VMs that get there only through other VMs (transitive attackers). Past `limit` attacker
 * nodes, attackers off the highlighted path are merged into one node per group (tag group when
 * the environment document is known, else per ring), so a huge answer stays drawable.
 */

/** A node or an edge in Cytoscape's element format. */
export interface GraphElement {
  group: 'nodes' | 'edges';
  data: {
    id: string;
    label: string;
    source?: string;
    target?: string;
    /** target | direct | transitive | group */
    kind: string;
    /** Number of VMs the node stands for (1 for a VM). */
    size: number;
    /** 1 for elements on the highlighted attack path. */
    onPath: number;
    /** Ring: 3 target, 2 direct, 1 transitive. */
    ring: number;
    /**
     * Circle of the concentric layout, higher nearer the centre: a ring of many VMs is spread
     * over several circles of at most PER_CIRCLE nodes, so 1,000 VMs stay a readable disc.
     */
    level: number;
  };
}

/** What the graph is built from. */
export interface AttackGraphInput {
  readonly target: string;
  /** Direct attackers of the target (mode=direct). */
  readonly direct: readonly string[];
  /** Every attacker of the target (mode=transitive; a superset of direct). */
  readonly transitive: readonly string[];
  /** The highlighted path's VM ids, from the attacker to the target (empty: none). */
  readonly path: readonly { vm_id: string; fw_id: string | null }[];
  /** Most attacker nodes drawn one by one before grouping. */
  readonly limit: number;
  /** The group of a VM (e.g. its first tag), when known. */
  readonly groupOf?: ((vmId: string) => string) | undefined;
}

/** The graph's elements plus what was merged. */
export interface AttackGraph {
  readonly elements: GraphElement[];
  /** Attackers drawn inside group nodes rather than one by one. */
  readonly grouped: number;
}

/** Most nodes on one circle of the layout. */
const PER_CIRCLE = 120;

const vmNode = (
  id: string,
  kind: string,
  ring: number,
  onPath: boolean,
  level: number,
): GraphElement => ({
  group: 'nodes',
  data: { id: `vm:${id}`, label: id, kind, size: 1, onPath: onPath ? 1 : 0, ring, level },
});

const edge = (from: string, to: string, label: string, onPath: boolean): GraphElement => ({
  group: 'edges',
  data: {
    id: `e:${from}->${to}`,
    label,
    source: from,
    target: to,
    kind: 'edge',
    size: 1,
    onPath: onPath ? 1 : 0,
    ring: 0,
    level: 0,
  },
});

/** Builds the attack graph of `input.target`. */
export function buildAttackGraph(input: AttackGraphInput): AttackGraph {
  const directSet = new Set(input.direct);
  const pathSet = new Set(input.path.map((step) => step.vm_id));
  const all = new Set<string>([...input.transitive, ...input.direct]);
  all.delete(input.target);
  const tooMany = all.size > input.limit;

  const elements: GraphElement[] = [
    vmNode(input.target, 'target', 3, pathSet.has(input.target), 10_000),
  ];
  // Nodes placed so far per ring: the next one's circle is counted from the ring's base level.
  const placed = new Map<number, number>();
  const levelOf = (ring: number): number => {
    const n = placed.get(ring) ?? 0;
    placed.set(ring, n + 1);
    return ring * 1000 - Math.floor(n / PER_CIRCLE);
  };
  const nodeOf = new Map<string, string>();
  nodeOf.set(input.target, `vm:${input.target}`);
  const groups = new Map<string, { id: string; label: string; size: number; ring: number }>();
  let grouped = 0;

  for (const vm of [...all].sort()) {
    const isDirect = directSet.has(vm);
    const ring = isDirect ? 2 : 1;
    if (!tooMany || pathSet.has(vm)) {
      elements.push(
        vmNode(vm, isDirect ? 'direct' : 'transitive', ring, pathSet.has(vm), levelOf(ring)),
      );
      nodeOf.set(vm, `vm:${vm}`);
      continue;
    }
    const name = input.groupOf?.(vm) ?? (isDirect ? 'direct attackers' : 'transitive attackers');
    const key = `${ring}:${name}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { id: `group:${key}`, label: name, size: 0, ring };
      groups.set(key, group);
    }
    group.size++;
    grouped++;
    nodeOf.set(vm, group.id);
  }
  for (const group of groups.values()) {
    elements.push({
      group: 'nodes',
      data: {
        id: group.id,
        label: `${group.label} (${group.size})`,
        kind: 'group',
        size: group.size,
        onPath: 0,
        ring: group.ring,
        level: levelOf(group.ring),
      },
    });
  }

  // One rule lets each direct attacker in; edges from the same group node are merged.
  const edges = new Map<string, GraphElement>();
  for (const vm of input.direct) {
    const from = nodeOf.get(vm);
    if (from === undefined) continue;
    const id = `e:${from}->vm:${input.target}`;
    if (!edges.has(id)) edges.set(id, edge(from, `vm:${input.target}`, '', false));
  }
  // The path's hops, each labelled with the rule allowing it, highlighted.
  for (let i = 1; i < input.path.length; i++) {
    const from = nodeOf.get(input.path[i - 1]!.vm_id);
    const to = nodeOf.get(input.path[i]!.vm_id);
    if (from === undefined || to === undefined) continue;
    edges.set(`e:${from}->${to}`, edge(from, to, input.path[i]!.fw_id ?? '', true));
  }
  elements.push(...edges.values());
  return { elements, grouped };
}

/** The first tag of each VM of an environment document, for grouping ("untagged" if none). */
export function firstTagGroups(document: unknown): Map<string, string> {
  const groups = new Map<string, string>();
  const vms = (document as { vms?: unknown } | null)?.vms;
  if (!Array.isArray(vms)) return groups;
  for (const vm of vms as { vm_id?: unknown; tags?: unknown }[]) {
    if (typeof vm.vm_id !== 'string') continue;
    const tags = Array.isArray(vm.tags) ? vm.tags.filter((t) => typeof t === 'string') : [];
    groups.set(vm.vm_id, tags.length === 0 ? 'untagged' : `tag ${[...tags].sort()[0]!}`);
  }
  return groups;
}
