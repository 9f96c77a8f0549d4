package depot.coordinator;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Chooses where replicas go: distinct live storage nodes with room for the file, most free space first,
 * and distinct hosts before a second replica on the same host. Nodes whose free space is within
 * {@link #ROOMY_SHARE} of the roomiest count as equally roomy (nodes sharing one disk report the same
 * free space, give or take what was written since): among those, the node holding the fewest bytes goes
 * first, so replicas spread instead of piling onto whichever node reported last.
 */
public final class Placement {
  static final double ROOMY_SHARE = 0.9;

  private Placement() {}

  static List<StorageNode> choose(Collection<StorageNode> nodes, int count, long size, Set<String> exclude) {
    return choose(nodes, count, size, exclude, Set.of());
  }

  /**
   * Like {@link #choose(Collection, int, long, Set)}, leaving out the {@code suspects} unless the deposit could
   * not reach its write {@code quorum} without them: then just enough of them go at the end of the pipeline,
   * behind every node not suspected (the deposit then stands or falls with them; without them it could not
   * be made at all).
   */
  static List<StorageNode> chooseAvoiding(Collection<StorageNode> nodes, int count, int quorum, long size,
                                          Set<String> exclude, Set<String> suspects) {
    Set<String> avoided = new HashSet<>(exclude);
    avoided.addAll(suspects);
    List<StorageNode> chosen = new ArrayList<>(choose(nodes, count, size, avoided));
    if (chosen.size() < quorum) {
      for (StorageNode n : choose(nodes, count, size, exclude)) {
        if (chosen.size() < quorum && suspects.contains(n.id())) {
          chosen.add(n);
        }
      }
    }
    return chosen;
  }

  /** {@code hostsTaken}: hosts that already hold a replica (when adding copies). */
  static List<StorageNode> choose(Collection<StorageNode> nodes, int count, long size, Set<String> exclude,
                                  Set<String> hostsTaken) {
    List<StorageNode> eligible = nodes.stream()
        .filter(n -> n.up() && n.url() != null && !exclude.contains(n.id()) && !n.heapFull() && n.diskFree() >= size)
        .toList();
    long roomiest = eligible.stream().mapToLong(StorageNode::diskFree).max().orElse(0);
    Predicate<StorageNode> roomy = n -> n.diskFree() >= ROOMY_SHARE * roomiest;
    List<StorageNode> candidates = new ArrayList<>(eligible.stream()
        .sorted(Comparator.comparing((StorageNode n) -> !roomy.test(n))
            .thenComparingLong(n -> roomy.test(n) ? n.used() : -n.diskFree())
            .thenComparing(StorageNode::id))
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
