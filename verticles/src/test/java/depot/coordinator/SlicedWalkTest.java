package depot.coordinator;

import depot.testing.OnLoop;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SlicedWalkTest {
  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void down() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  @Test
  void everyItemIsVisitedInOrderAndOtherWorkRunsBetweenSlices() throws Exception {
    List<Integer> items = IntStream.range(0, 25).boxed().toList();
    List<String> seen = new ArrayList<>();
    OnLoop.run(vertx, () -> {
      Future<Void> walked = SlicedWalk.forEach(vertx, items, 10, i -> seen.add("item " + i));
      vertx.runOnContext(v -> seen.add("other work"));
      return walked;
    });
    int other = seen.indexOf("other work");
    assertEquals(10, other, "the other work ran right after the first slice: " + seen);
    List<String> visited = new ArrayList<>(seen);
    visited.remove(other);
    assertEquals(IntStream.range(0, 25).mapToObj(i -> "item " + i).toList(), visited);
  }

  @Test
  void aListThatFitsInOneSliceIsWalkedAtOnce() throws Exception {
    List<Integer> seen = new ArrayList<>();
    boolean doneAtOnce = OnLoop.run(vertx, () ->
        Future.succeededFuture(SlicedWalk.forEach(vertx, List.of(1, 2, 3), 10, seen::add).isComplete()));
    assertTrue(doneAtOnce);
    assertEquals(List.of(1, 2, 3), seen);
  }

  @Test
  void aFailingActionFailsTheWalk() {
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> OnLoop.run(vertx,
        () -> SlicedWalk.forEach(vertx, List.of(1, 2, 3), 2, i -> {
          if (i == 3) {
            throw new IllegalStateException("item 3 is bad");
          }
        })));
    assertTrue(String.valueOf(e.getCause()).contains("item 3 is bad"), String.valueOf(e));
  }
}
