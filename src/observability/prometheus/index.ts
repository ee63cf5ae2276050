/**
 * @module observability/prometheus: the Prometheus implementation of the metrics port. Imported only by the
 * Node entry and tests, so builds that never export metrics (the edge worker) never load `prom-client`.
 */
export { createPrometheusMetrics } from './prometheus-metrics.js';
export type { PrometheusMetrics, PrometheusMetricsOptions } from './prometheus-metrics.js';
