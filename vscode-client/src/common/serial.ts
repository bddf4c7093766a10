/**
 * Runs an async job one at a time: a call while a run is in progress queues exactly one more run
 * (later calls fold into it). Used for server restarts, which may be triggered by several
 * settings changes at once.
 */
export class SerialRunner {
  private running: Promise<void> | undefined;
  private queued = false;

  constructor(private readonly job: () => Promise<void>) {}

  /** Resolves when a run that started at or after this call has finished. */
  run(): Promise<void> {
    if (this.running) {
      // The loop below re-runs the job before `running` settles.
      this.queued = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.queued = false;
          try {
            await this.job();
          } catch {
            // The job reports its own failures; the queue keeps going.
          }
        } while (this.queued);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }
}
