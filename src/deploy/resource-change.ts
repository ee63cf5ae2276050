/**
 * @module resource-change: how the control plane tells the deploy side that a resource was written, and the
 * small helpers every deployer uses to key resources.
 */
import type { Registered } from '../registry/index.js';
import type { ResourceRef } from './deployer.js';

/**
 * Told after every successful create, update or delete of an adapter or tool. Must return at once and never
 * throw: the write has happened, and convergence is the listener's business (the reconciler implements it).
 */
export interface ResourceChangeListener {
  notify(ref: ResourceRef): void;
}

/** A listener that does nothing: the default where no deployer runs (tests, the edge build). */
export const nullResourceChangeListener: ResourceChangeListener = Object.freeze({
  notify(): void {},
});

/** A stable map key for a resource: kinds have separate name spaces, so the kind is part of it. */
export function refKey(ref: ResourceRef): string {
  return `${ref.kind}/${ref.name}`;
}

/** The ref of a registered resource. */
export function refOf(resource: Pick<Registered, 'kind' | 'name'>): ResourceRef {
  return { kind: resource.kind, name: resource.name };
}
