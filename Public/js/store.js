// The tasks this user sees. Answers to commands and stream events can arrive in either order,
// so a snapshot older than one already shown never replaces it. Versions are remembered even
// after a task leaves the view, so a late answer cannot bring a finished task back.

export class TaskStore extends EventTarget {
  /** viewer: the agent's id, or null for a supervisor (who sees every open task). */
  constructor(viewer) {
    super();
    this.viewer = viewer;
    this.tasks = new Map();
    this.versions = new Map();
    this.touched = new Map(); // task id → the store clock when it last changed
    this.clock = 0;
    this.pending = false;
  }

  /** Whether the snapshot belongs on this user's screen. */
  shows(snapshot) {
    if (this.viewer === null) return !(snapshot.status === 'ended' && !snapshot.wrapUpPending);
    if (snapshot.wrapUpRequired) return true;
    // An answer can be the task as it was left (after Exit Conference, say): then it is gone.
    return snapshot.participants.some((party) => party.agentId === this.viewer && party.state !== 'left');
  }

  /** Takes a snapshot unless a newer version was already seen; true when it was taken. */
  apply(snapshot) {
    if (!snapshot || typeof snapshot.id !== 'string') return false;
    const known = this.versions.get(snapshot.id);
    if (known !== undefined && snapshot.version < known) return false;
    this.versions.set(snapshot.id, snapshot.version);
    this.touch(snapshot.id);
    if (this.shows(snapshot)) this.tasks.set(snapshot.id, snapshot);
    else this.tasks.delete(snapshot.id);
    this.changed();
    return true;
  }

  remove(id) {
    this.touch(id);
    if (this.tasks.delete(id)) this.changed();
  }

  /** The task left this user at `version`: removed unless a newer version was already seen. */
  removeAt(id, version) {
    const known = this.versions.get(id);
    if (known !== undefined && known > version) return;
    this.versions.set(id, version);
    this.remove(id);
  }

  /** A point in the store's history, taken before fetching the full list (see `reset`). */
  mark() {
    return this.clock;
  }

  /**
   * The full list as fetched after `mark`: its snapshots are applied, and tasks it lacks are
   * dropped unless something newer than the fetch (an answer, an event) touched them since.
   */
  reset(list, mark) {
    const listed = new Set(list.map((snapshot) => snapshot.id));
    for (const snapshot of list) this.apply(snapshot);
    for (const id of [...this.tasks.keys()]) {
      if (!listed.has(id) && !((this.touched.get(id) ?? 0) > mark)) this.remove(id);
    }
    this.changed();
  }

  get(id) {
    return this.tasks.get(id);
  }

  list() {
    return [...this.tasks.values()];
  }

  touch(id) {
    this.clock += 1;
    this.touched.set(id, this.clock);
  }

  /** One 'change' event per burst of updates (a replay after a reconnect brings many at once). */
  changed() {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.dispatchEvent(new Event('change'));
    });
  }
}
