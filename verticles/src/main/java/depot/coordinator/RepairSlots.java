package depot.coordinator;

import java.util.HashMap;
import java.util.Map;

/**
 * Counts the repair copies running, so that no storage node takes part in more than {@code perNode} of them
 * at once (a copy counts on its source and on its target) and the cluster runs at most {@code total}.
 * Used on one event loop only.
 */
final class RepairSlots {
  private final int perNode;
  private final int total;
  private final Map<String, Integer> byNode = new HashMap<>();
  private int running;

  RepairSlots(int perNode, int total) {
    if (perNode < 1 || total < 1) {
      throw new IllegalArgumentException("repair limits must be at least 1");
    }
    this.perNode = perNode;
    this.total = total;
  }

  /** Whether one more copy may run at all. */
  boolean full() {
    return running >= total;
  }

  /** Copies {@code node} takes part in now. */
  int load(String node) {
    return byNode.getOrDefault(node, 0);
  }

  /** Whether {@code node} may take part in one more copy. */
  boolean nodeFree(String node) {
    return load(node) < perNode;
  }

  /** Takes a slot for a copy from {@code source} to {@code target}; false (and nothing taken) when a limit is reached. */
  boolean tryAcquire(String source, String target) {
    if (full() || !nodeFree(source) || !nodeFree(target) || source.equals(target)) {
      return false;
    }
    running++;
    byNode.merge(source, 1, Integer::sum);
    byNode.merge(target, 1, Integer::sum);
    return true;
  }

  /** Gives back the slot of a copy {@link #tryAcquire} granted. */
  void release(String source, String target) {
    if (running == 0) {
      throw new IllegalStateException("no repair copy is running");
    }
    running--;
    byNode.computeIfPresent(source, (k, n) -> n > 1 ? n - 1 : null);
    byNode.computeIfPresent(target, (k, n) -> n > 1 ? n - 1 : null);
  }

  int running() {
    return running;
  }

  /** Copies each node takes part in now (nodes with none are left out). */
  Map<String, Integer> byNode() {
    return Map.copyOf(byNode);
  }
}
