/** @module ReplicaLoad: in-flight exchanges this gateway instance has open per replica, for bounded-load placement. */

/** Counts open exchanges (requests and streams) per replica id. */
export class ReplicaLoad {
  private readonly open = new Map<string, number>();

  /** Current open exchanges on a replica. */
  of(replicaId: string): number {
    return this.open.get(replicaId) ?? 0;
  }

  /** Marks one more exchange open; returns the function that closes it (idempotent). */
  begin(replicaId: string): () => void {
    this.open.set(replicaId, this.of(replicaId) + 1);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      const left = this.of(replicaId) - 1;
      if (left > 0) this.open.set(replicaId, left);
      else this.open.delete(replicaId);
    };
  }
}
