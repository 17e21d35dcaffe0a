// Counts the requests each client address has in progress, so that one client (a slow-loris, a
// runaway script) cannot hold every connection and body buffer of the server.

export class ClientGate {
  private readonly inProgress = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Counts a request in; false (and nothing counted) when `address` is at its limit. */
  enter(address: string): boolean {
    const count = this.inProgress.get(address) ?? 0;
    if (count >= this.limit) return false;
    this.inProgress.set(address, count + 1);
    return true;
  }

  leave(address: string): void {
    const count = this.inProgress.get(address) ?? 0;
    if (count <= 1) this.inProgress.delete(address);
    else this.inProgress.set(address, count - 1);
  }

  /** Requests `address` has in progress now. */
  count(address: string): number {
    return this.inProgress.get(address) ?? 0;
  }
}
