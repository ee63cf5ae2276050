/**
 * @module Tests of the status a Kubernetes-run resource shows, from plain StatefulSet and pod objects: one
 * entry per desired replica, pods above it ignored, missing pods named, which image is shown, and `Pending`
 * until a pod is scheduled.
 */
import type { V1StatefulSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CONTAINER_NAME, LABELS, PORT_NAME } from './manifests.js';
import type { PodView } from './pod-view.js';
import { pendingStatus, statusFrom } from './workload-status.js';
import type { WorkloadStatusContext } from './workload-status.js';

const SET_NAME = 'mcp-a-weather';
const checkedAt = new Date('2026-01-02T03:04:05Z');

function context(desiredReplicas: number): WorkloadStatusContext {
  return {
    desiredReplicas,
    addressing: { namespace: 'mcp', clusterDomain: 'cluster.local' },
    checkedAt,
    desiredImage: 'registry.test/weather:2.0.0',
  };
}

function statefulSet(image: string | undefined, status: V1StatefulSet['status'] = undefined): V1StatefulSet {
  return {
    metadata: { name: SET_NAME },
    spec: {
      selector: {},
      serviceName: SET_NAME,
      template: { spec: { containers: [{ name: CONTAINER_NAME, ...(image && { image }) }] } },
    },
    ...(status && { status }),
  };
}

function pod(ordinal: number, options: { ready?: boolean; image?: string } = {}): PodView {
  const { ready = true, image } = options;
  return {
    metadata: {
      name: `${SET_NAME}-${ordinal}`,
      uid: `uid-${ordinal}`,
      labels: { [LABELS.instance]: SET_NAME, [LABELS.component]: 'adapter' },
    },
    spec: {
      containers: [
        { name: CONTAINER_NAME, ...(image && { image }), ports: [{ name: PORT_NAME, containerPort: 8000 }] },
      ],
    },
    status: {
      phase: 'Running',
      podIP: `10.0.0.${ordinal + 1}`,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [{ name: CONTAINER_NAME, ready, restartCount: 0, state: { running: {} } }],
    },
  };
}

describe('statusFrom', () => {
  it('every desired replica ready: Healthy, with the StatefulSet’s image and counts', () => {
    const status = statusFrom(
      statefulSet('registry.test/weather:1.0.0', { replicas: 2, updatedReplicas: 2, availableReplicas: 1 }),
      [pod(1), pod(0)],
      context(2),
    );
    expect(status).toMatchObject({
      readyReplicas: 2,
      updatedReplicas: 2,
      availableReplicas: 1,
      image: 'registry.test/weather:1.0.0',
      replicaStatus: 'Healthy',
      runtime: 'image',
    });
    expect(status.replicas.map((r) => [r.instance, r.state, r.endpoint])).toEqual([
      [0, 'Ready', 'http://mcp-a-weather-0.mcp-a-weather.mcp.svc.cluster.local:8000/'],
      [1, 'Ready', 'http://mcp-a-weather-1.mcp-a-weather.mcp.svc.cluster.local:8000/'],
    ]);
    expect(status.replicas.every((r) => r.checkedAt === checkedAt)).toBe(true);
  });

  it('one entry per desired replica: a pod above it (scaling down) is left out, a missing one is named', () => {
    const scaledDown = statusFrom(statefulSet('img:1'), [pod(0), pod(1), pod(2)], context(1));
    expect(scaledDown.replicas.map((r) => r.instance)).toEqual([0]);
    expect(scaledDown.replicaStatus).toBe('Healthy');

    const missing = statusFrom(statefulSet('img:1'), [pod(0)], context(2));
    expect(missing.replicas[1]).toMatchObject({ instance: 1, ready: false, state: 'Missing' });
    expect(missing.replicaStatus).toBe('Degraded: 1/2 ready');
  });

  it('a pod that is not ready counts against the ready replicas', () => {
    const status = statusFrom(statefulSet('img:1'), [pod(0), pod(1, { ready: false })], context(2));
    expect(status.readyReplicas).toBe(1);
    expect(status.replicas[1]).toMatchObject({ ready: false, state: 'NotReady' });
    expect(status.replicaStatus).toBe('Degraded: 1/2 ready');
  });

  it('pods that are not the StatefulSet’s numbered pods are not taken for replicas', () => {
    const stray: PodView = { ...pod(0), metadata: { ...pod(0).metadata, name: 'someone-else-0' } };
    const status = statusFrom(statefulSet('img:1'), [stray], context(1));
    expect(status.replicas).toEqual([
      expect.objectContaining({ instance: 0, ready: false, state: 'Missing' }),
    ]);
  });

  it('Pending while nothing is scheduled for a resource that wants replicas; Healthy at zero', () => {
    expect(statusFrom(statefulSet('img:1'), [], context(2)).replicaStatus).toBe('Pending');
    expect(statusFrom(statefulSet('img:1'), [], context(0))).toMatchObject({
      replicaStatus: 'Healthy',
      replicas: [],
    });
  });

  it('the image: the StatefulSet’s, else the first pod’s, else the one the spec asks for', () => {
    expect(statusFrom(statefulSet(undefined), [pod(0, { image: 'img:pod' })], context(1)).image).toBe(
      'img:pod',
    );
    expect(statusFrom(statefulSet(undefined), [], context(1)).image).toBe('registry.test/weather:2.0.0');
  });
});

describe('pendingStatus', () => {
  it('has no replicas and shows the reason', () => {
    expect(pendingStatus('Pending', 'img:1')).toEqual({
      readyReplicas: 0,
      updatedReplicas: 0,
      availableReplicas: 0,
      image: 'img:1',
      replicaStatus: 'Pending',
      runtime: 'image',
      replicas: [],
    });
  });
});
