package depot.coordinator;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Storage nodes a deposit just failed on (unreachable, or cut off mid-stream) while the directory still lists
 * them as up: a node killed a moment ago keeps its record until its heartbeats are missed for the expiry time.
 * New deposits are placed elsewhere meanwhile, so a client's retry does not land on the same dead node, as
 * HDFS's client excludes the DataNodes its pipeline lost. A suspicion ends when the node registers again or
 * after {@code holdMs}, by which time a dead node has expired and a live one is trusted again.
 */
final class SuspectNodes {
  private final long holdMs;
  private final Map<String, Long> until = new HashMap<>();

  SuspectNodes(long holdMs) {
    this.holdMs = holdMs;
  }

  void suspect(String nodeId, long now) {
    until.put(nodeId, now + holdMs);
  }

  /** The node announced itself again (restarted): what it failed before says nothing about it now. */
  void clear(String nodeId) {
    until.remove(nodeId);
  }

  /** The nodes still under suspicion at {@code now}: a copy, the caller's to change. */
  Set<String> at(long now) {
    until.values().removeIf(end -> end <= now);
    return new HashSet<>(until.keySet());
  }
}
