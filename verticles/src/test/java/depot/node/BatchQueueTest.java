package depot.node;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchQueueTest {
  @Test
  void theFirstItemWithNoBatchQueuedAsksForOneAndTheBatchTakesAllThatCameBeforeItRan() {
    BatchQueue<String> queue = new BatchQueue<>();
    assertFalse(queue.batchQueued());
    assertTrue(queue.add("a"), "nothing queued: the caller queues a batch");
    assertFalse(queue.add("b"), "the queued batch will take it");
    assertTrue(queue.batchQueued());
    assertEquals(List.of("a", "b"), queue.take());
    assertFalse(queue.batchQueued());
    assertTrue(queue.add("c"), "taken: the next item needs a batch of its own");
    assertEquals(List.of("c"), queue.take());
    assertEquals(List.of(), queue.take());
  }
}
