package depot.node;

import java.util.ArrayList;
import java.util.List;

/**
 * What waits for a store's next group commit (pack replicas, journal operations). Added to on the event loop,
 * taken by the batch's task on a worker thread, hence the lock. The first item added while no batch is queued
 * tells its caller to queue one; that batch takes everything added until it runs.
 */
public final class BatchQueue<T> {
  private final Object lock = new Object();
  private List<T> items = new ArrayList<>();
  private boolean batchQueued;

  /** Adds {@code item}; true if no batch was queued to take it, so the caller must queue one. */
  public boolean add(T item) {
    return addAll(List.of(item));
  }

  /** Adds {@code more} at once, so one batch takes them all; true as for {@link #add}. */
  public boolean addAll(List<T> more) {
    synchronized (lock) {
      items.addAll(more);
      boolean queueOne = !batchQueued;
      batchQueued = true;
      return queueOne;
    }
  }

  /** For the batch's task: everything added so far. The next item added asks for a new batch. */
  public List<T> take() {
    synchronized (lock) {
      List<T> taken = items;
      items = new ArrayList<>();
      batchQueued = false;
      return taken;
    }
  }

  /** Whether a batch is queued and has not taken its items yet (so items are waiting). */
  public boolean batchQueued() {
    synchronized (lock) {
      return batchQueued;
    }
  }
}
