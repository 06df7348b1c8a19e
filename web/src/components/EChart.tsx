/**
 * ECharts, the one charting library of the UI: tree-shaken to the chart types used, canvas
 * rendering, the built-in dark theme when the OS asks for dark, and ECharts' ARIA description
 * so a screen reader gets the data in words.
 */
import { useEffect, useRef, useSyncExternalStore, type ReactNode } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import {
  AriaComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  LineChart,
  AriaComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  CanvasRenderer,
]);

/** A chart option (ECharts' own type, narrowed to what the pages build). */
export type ChartOption = echarts.EChartsCoreOption;

const DARK = '(prefers-color-scheme: dark)';

/** True while the OS prefers dark; follows changes live. */
export function usePrefersDark(): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const query = window.matchMedia(DARK);
      query.addEventListener('change', onChange);
      return () => {
        query.removeEventListener('change', onChange);
      };
    },
    () => window.matchMedia(DARK).matches,
  );
}

/** One chart; `label` names it for assistive technology. */
export function EChart(props: { option: ChartOption; label: string; testId?: string }): ReactNode {
  const container = useRef<HTMLDivElement>(null);
  const dark = usePrefersDark();
  useEffect(() => {
    if (container.current === null) return;
    const chart = echarts.init(container.current, dark ? 'dark' : undefined, {
      renderer: 'canvas',
    });
    chart.setOption({
      backgroundColor: 'transparent',
      aria: { enabled: true, label: { description: undefined } },
      animation: false,
      ...props.option,
    });
    const observer = new ResizeObserver(() => {
      chart.resize();
    });
    observer.observe(container.current);
    return () => {
      observer.disconnect();
      chart.dispose();
    };
  }, [props.option, dark]);
  return (
    <div
      ref={container}
      className="chart"
      role="img"
      aria-label={props.label}
      data-testid={props.testId}
    />
  );
}
