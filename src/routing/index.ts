/** @module routing: where a request goes — weighted rendezvous hashing over an adapter's ready replicas. */
export {
  createRendezvous,
  createXxh64Hash,
  DEFAULT_LOAD_EPSILON,
  type Hash64,
  type LoadOf,
  type Rendezvous,
  type RendezvousOptions,
  type WeightedReplica,
} from './rendezvous.js';
export { pickTwoChoices, type UnitRandom } from './two-choices.js';
