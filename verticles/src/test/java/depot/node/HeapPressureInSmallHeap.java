package depot.node;

import java.util.ArrayList;
import java.util.List;

/**
 * Run by {@link HeapPressureTest} in a JVM with a small heap: adds ballast until collections leave more than
 * the limit in use, collects until {@link HeapPressure} is pressed (not before its sustain time), then drops
 * the ballast a piece at a time until it is released, checking the heap in use after each collection against
 * the limit. Exits 0 when both transitions came where they should, 1 otherwise.
 */
public final class HeapPressureInSmallHeap {
  /** Well under half a G1 region, so no chunk is a humongous object taking a region of its own. */
  private static final int CHUNK = 128 * 1024;

  public static void main(String[] args) throws Exception {
    int limit = Integer.parseInt(args[0]);
    long sustainMs = Long.parseLong(args[1]);
    int release = limit - HeapPressure.RELEASE_MARGIN_PERCENT;
    List<byte[]> ballast = new ArrayList<>();
    try (HeapPressure heap = new HeapPressure(limit, sustainMs)) {
      long collectedFrom = System.nanoTime();
      long used = collect(heap);
      while (used <= limit) {
        ballast.add(new byte[CHUNK]);
        collectedFrom = System.nanoTime();
        used = collect(heap);
      }
      // The guard saw the heap over the limit during that collection, not before it began. (Taken after it,
      // the start was late by the collection, and a press on time could look early: 999 ms of 1000.)
      long overAt = collectedFrom;
      while (!heap.pressed()) {
        if (System.nanoTime() - overAt > (sustainMs + 5_000) * 1_000_000) {
          fail("not pressed after " + (sustainMs + 5_000) + " ms of collections leaving " + used + "%");
        }
        used = collect(heap);
      }
      long tookMs = (System.nanoTime() - overAt) / 1_000_000;
      if (tookMs < sustainMs) {
        fail("pressed " + tookMs + " ms after the heap went over the limit, before its " + sustainMs + " ms");
      }
      System.out.println("pressed at " + used + "% after " + tookMs + " ms over the limit: " + heap.describe());
      boolean stayedBetween = false;
      while (heap.pressed()) {
        if (used < release) {
          fail("still pressed at " + used + "%, below " + release + "%");
        }
        stayedBetween |= used >= release + 1 && used < limit;
        if (ballast.isEmpty()) {
          fail("still pressed with no ballast left, at " + used + "%");
        }
        ballast.remove(ballast.size() - 1);
        used = collect(heap);
      }
      if (!stayedBetween) {
        fail("never seen pressed between " + release + "% and " + limit + "%: no hysteresis shown");
      }
      System.out.println("still pressed at " + (release + 1) + "% or more, down to its release line");
      if (used >= release) {
        fail("released at " + used + "%, not below " + release + "%");
      }
      System.out.println("released at " + used + "%: " + heap.describe());
    }
    System.exit(0);
  }

  /** A full collection, then what the guard made of it (its notification arrives on a JMX thread). */
  private static long collect(HeapPressure heap) throws InterruptedException {
    System.gc();
    Thread.sleep(20);
    return heap.usedPercent();
  }

  private static void fail(String why) {
    System.out.println("FAILED: " + why);
    System.exit(1);
  }
}
