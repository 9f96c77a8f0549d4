package depot.node;

import com.sun.management.GarbageCollectionNotificationInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Whether this JVM's heap is nearly full of data that survives collection. The catalog and the pack indexes
 * live in the heap, so a node that goes on accepting files past that point ends in back-to-back full
 * collections and timeouts instead of a clear refusal (a dev cluster in 384 MiB did, between 200,000 and
 * 240,000 files).
 *
 * <p>Judged after each collection, from the heap still in use then. Pressed once collections have left more
 * than {@code limitPercent} of the maximum heap for {@code sustainMs} with none in between leaving less: a
 * young collection of G1 leaves the old generation's garbage in place until a mixed one clears it, so one
 * collection over the line says little (a dev cluster whose live data took 76% of its heap saw young
 * collections leave 91%). Released once a collection leaves less than {@link #RELEASE_MARGIN_PERCENT} points
 * below the limit, so that the state does not flip back and forth on the line. Elasticsearch's real-memory
 * circuit breaker refuses requests for the same reason.
 *
 * <p>The heap is the process's, so nodes sharing a JVM ({@code dev} runs four) share one guard per limit:
 * one watcher, and one warning in the log rather than one per node.
 */
public final class HeapPressure implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HeapPressure.class);
  static final int RELEASE_MARGIN_PERCENT = 10;
  /** Several mixed collections' worth at the allocation rates seen; a node fills its heap over minutes, not seconds. */
  static final long SUSTAIN_MS = 5_000;
  /** The guards {@link #shared(int)} hands out, by limit. */
  private static final Map<Integer, HeapPressure> SHARED = new HashMap<>();

  private final int limitPercent;
  private final long sustainMs;
  private final long maxHeap = Runtime.getRuntime().maxMemory();
  private final Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
      .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
  private final List<NotificationEmitter> watched = new ArrayList<>();
  private final boolean shared;
  /** Nodes holding this guard, if shared (guarded by {@link #SHARED}). */
  private int holders;
  private final NotificationListener listener = this::afterCollection;
  private volatile boolean pressed;
  private volatile long usedAfterLastCollection;
  /** Whether the last collection left more than the limit in use. */
  private boolean over;
  /** When the current run of collections over the limit began (System.nanoTime(), not rounded to ms). */
  private long overSinceNanos;

  /**
   * This JVM's guard for the limit, shared with every other node of the process that asks for the same one;
   * {@link #close()} hands it back.
   *
   * @param limitPercent of the maximum heap in use after a collection beyond which it is pressed (0: never)
   */
  public static HeapPressure shared(int limitPercent) {
    synchronized (SHARED) {
      HeapPressure guard = SHARED.computeIfAbsent(limitPercent, limit -> new HeapPressure(limit, SUSTAIN_MS, true));
      guard.holders++;
      return guard;
    }
  }

  /** A guard of its own (tests: a short sustain time). */
  HeapPressure(int limitPercent, long sustainMs) {
    this(limitPercent, sustainMs, false);
  }

  private HeapPressure(int limitPercent, long sustainMs, boolean shared) {
    if (limitPercent < 0 || limitPercent > 100) {
      throw new IllegalArgumentException("heap limit must be a percentage (0 = off), not " + limitPercent);
    }
    this.limitPercent = limitPercent;
    this.sustainMs = sustainMs;
    this.shared = shared;
    if (limitPercent == 0) {
      return;
    }
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(listener, null, null);
        watched.add(emitter);
      }
    }
  }

  /** True from collections over the limit for a while until one leaves room. Cheap: call it per request. */
  public boolean pressed() {
    return pressed;
  }

  /** True while it listens to the collector (from creation until its last holder closes it). */
  boolean watching() {
    return !watched.isEmpty();
  }

  /** What the last collection left in use, in percent of the maximum heap. */
  long usedPercent() {
    return usedAfterLastCollection * 100 / maxHeap;
  }

  /** What the last collection left in use, for the message that tells a user why a request is refused. */
  public String describe() {
    return String.format("%d%% of the %d MiB heap is in use after garbage collection (limit %d%%)",
        usedPercent(), maxHeap >> 20, limitPercent);
  }

  private synchronized void afterCollection(Notification notification, Object handback) {
    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
      return;
    }
    GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
    long used = 0;
    for (var pool : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
      if (heapPools.contains(pool.getKey())) {
        MemoryUsage usage = pool.getValue();
        used += usage.getUsed();
      }
    }
    usedAfterLastCollection = used;
    long percent = used * 100 / maxHeap;
    long now = System.nanoTime();
    if (percent <= limitPercent) {
      over = false;
    } else if (!over) {
      over = true;
      overSinceNanos = now;
    }
    if (!pressed && over && now - overSinceNanos >= sustainMs * 1_000_000) {
      pressed = true;
      log.warn("heap nearly full: {}; new files and replicas are refused until it is below {}%", describe(),
          limitPercent - RELEASE_MARGIN_PERCENT);
    } else if (pressed && percent < limitPercent - RELEASE_MARGIN_PERCENT) {
      pressed = false;
      log.info("heap has room again: {}; new files and replicas are accepted", describe());
    }
  }

  /** Hands a shared guard back (it stops watching once no node holds it); stops a guard of its own. */
  @Override
  public void close() {
    if (shared) {
      synchronized (SHARED) {
        if (--holders > 0) {
          return;
        }
        SHARED.remove(limitPercent);
      }
    }
    for (NotificationEmitter emitter : watched) {
      try {
        emitter.removeNotificationListener(listener);
      } catch (ListenerNotFoundException e) {
        // already gone: nothing to undo
      }
    }
    watched.clear();
  }
}
