package depot.coordinator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The arithmetic of the Berkeley algorithm: given each node's clock offset from the master's (the master
 * itself at 0), average the offsets that agree with the majority, and tell every node how far to move.
 * Offsets further than {@code toleranceMs} from the median are left out of the average (a broken clock
 * must not drag the others), but still get a correction towards it.
 */
public final class BerkeleyAverage {
  private BerkeleyAverage() {}

  /** The agreed time, as an offset from the master's clock. */
  public static long average(Map<String, Long> offsets, long toleranceMs) {
    List<Long> sorted = new ArrayList<>(offsets.values());
    sorted.sort(Long::compare);
    if (sorted.isEmpty()) {
      return 0;
    }
    long median = sorted.get(sorted.size() / 2);
    long sum = 0;
    int n = 0;
    for (long o : sorted) {
      if (Math.abs(o - median) <= toleranceMs) {
        sum += o;
        n++;
      }
    }
    return n == 0 ? median : Math.round((double) sum / n);
  }

  /** What each node must add to its clock to read the agreed time. */
  public static Map<String, Long> corrections(Map<String, Long> offsets, long toleranceMs) {
    long agreed = average(offsets, toleranceMs);
    Map<String, Long> out = new LinkedHashMap<>();
    offsets.forEach((node, offset) -> out.put(node, agreed - offset));
    return out;
  }
}
