/** Cytoscape.js view of an attack graph; the attack path is drawn thick in the path colour. */
import { useEffect, useRef, type ReactNode } from 'react';
import cytoscape from 'cytoscape';
import type { GraphElement } from '../lib/attack-graph.ts';

/** Reads a colour of the current theme from the CSS variables. */
function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** Draws `elements`; clicking a VM node calls `onPick` with its vm_id. */
export function AttackGraphView(props: {
  elements: GraphElement[];
  description: string;
  onPick: (vmId: string) => void;
}): ReactNode {
  const container = useRef<HTMLDivElement>(null);
  const onPick = useRef(props.onPick);
  useEffect(() => {
    onPick.current = props.onPick;
  }, [props.onPick]);

  useEffect(() => {
    if (container.current === null) return;
    const many = props.elements.length > 300;
    const text = cssVar('--text');
    const cy = cytoscape({
      container: container.current,
      elements: props.elements,
      // Large graphs stay responsive: no edge drawing or label rendering while panning.
      hideEdgesOnViewport: many,
      textureOnViewport: many,
      minZoom: 0.05,
      maxZoom: 4,
      style: [
        {
          selector: 'node',
          style: {
            'background-color': cssVar('--muted'),
            label: 'data(label)',
            color: text,
            'font-size': 10,
            'min-zoomed-font-size': many ? 8 : 0,
            width: 12,
            height: 12,
          },
        },
        { selector: 'node[kind = "direct"]', style: { 'background-color': cssVar('--high') } },
        {
          selector: 'node[kind = "transitive"]',
          style: { 'background-color': cssVar('--medium') },
        },
        {
          selector: 'node[kind = "target"]',
          style: { 'background-color': cssVar('--accent'), width: 26, height: 26, 'font-size': 13 },
        },
        {
          selector: 'node[kind = "group"]',
          style: {
            shape: 'round-rectangle',
            'background-color': cssVar('--border'),
            width: 'mapData(size, 1, 1000, 20, 60)',
            height: 'mapData(size, 1, 1000, 20, 60)',
          },
        },
        {
          selector: 'edge',
          style: {
            width: 1,
            'line-color': cssVar('--border'),
            'target-arrow-color': cssVar('--border'),
            'target-arrow-shape': 'triangle',
            'curve-style': many ? 'haystack' : 'bezier',
          },
        },
        {
          selector: '[onPath = 1]',
          style: {
            'background-color': cssVar('--path'),
            'line-color': cssVar('--path'),
            'target-arrow-color': cssVar('--path'),
            'target-arrow-shape': 'triangle',
            'curve-style': 'bezier',
            width: 4,
            'z-index': 10,
            label: 'data(label)',
            color: text,
            'font-size': 11,
            'min-zoomed-font-size': 0,
          },
        },
      ],
      layout: {
        name: 'concentric',
        concentric: (node: cytoscape.NodeSingular) => Number(node.data('level')),
        levelWidth: () => 1,
        minNodeSpacing: many ? 2 : 10,
        animate: false,
      },
    });
    cy.on('tap', 'node', (event) => {
      const id = (event.target as cytoscape.NodeSingular).id();
      if (id.startsWith('vm:')) onPick.current(id.slice(3));
    });
    return () => {
      cy.destroy();
    };
  }, [props.elements]);

  return (
    <div
      ref={container}
      className="graph"
      role="img"
      aria-label={props.description}
      data-testid="attack-graph"
      data-nodes={props.elements.filter((e) => e.group === 'nodes').length}
      data-path-elements={props.elements.filter((e) => e.data.onPath === 1).length}
    />
  );
}
