package depot.coordinator;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Chooses where replicas go: distinct live storage nodes with room for the file, most free space first,
 * and distinct hosts before a second replica on the same host.
 */
public final class Placement {
  private Placement() {}

  static List<StorageNode> choose(Collection<StorageNode> nodes, int count, long size, Set<String> exclude) {
    return choose(nodes, count, size, exclude, Set.of());
  }

  /** {@code hostsTaken}: hosts that already hold a replica (when adding copies). */
  static List<StorageNode> choose(Collection<StorageNode> nodes, int count, long size, Set<String> exclude,
                                  Set<String> hostsTaken) {
    List<StorageNode> candidates = new ArrayList<>(nodes.stream()
        .filter(n -> n.up() && n.url() != null && !exclude.contains(n.id()) && n.diskFree() >= size)
        .sorted(Comparator.comparingLong(StorageNode::diskFree).reversed().thenComparing(StorageNode::id))
        .toList());
    List<StorageNode> chosen = new ArrayList<>();
    Set<String> hostsUsed = new HashSet<>(hostsTaken);
    for (StorageNode n : candidates) {
      if (chosen.size() < count && hostsUsed.add(n.host())) {
        chosen.add(n);
      }
    }
    for (StorageNode n : candidates) {
      if (chosen.size() < count && !chosen.contains(n)) {
        chosen.add(n);
      }
    }
    return chosen;
  }
}
