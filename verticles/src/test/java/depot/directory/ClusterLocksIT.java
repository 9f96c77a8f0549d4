package depot.directory;

import depot.config.DepotConfig;
import depot.it.TestCluster;
import depot.node.ClusterSetup;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Two real Hazelcast members: many holders of one lock, from the same node and from both, never overlap. */
class ClusterLocksIT {

  @Test
  void oneHolderAtATimeWithinANodeAndAcrossNodes() throws Exception {
    try (TestCluster cluster = TestCluster.empty(new JsonObject())) {
      List<Vertx> members = new ArrayList<>();
      try {
        for (String id : List.of("lock-a", "lock-b")) {
          DepotConfig config = cluster.config(id, new JsonArray());
          members.add(TestCluster.await(ClusterSetup.startClustered(config, "127.0.0.1", config.metricsRegistry())));
        }
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger mostInside = new AtomicInteger();
        List<Future<Void>> holders = new ArrayList<>();
        // Staggered, more than the worker pool's threads: a worker that took the lock is soon reused for another
        // request, the case where Hazelcast's per-thread lock alone lets two holders in.
        for (int i = 0; i < 64; i++) {
          Vertx vertx = members.get(i % 2);
          Thread.sleep(3);
          holders.add(ClusterLocks.acquire(vertx, "depot.test.lock", 30_000).compose(lock -> {
            mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
            Promise<Void> held = Promise.promise();
            vertx.setTimer(10, t -> {
              inside.decrementAndGet();
              lock.release();
              held.complete();
            });
            return held.future();
          }));
        }
        TestCluster.await(Future.all(holders));
        assertEquals(1, mostInside.get(), "holders of one lock overlapped");
      } finally {
        for (Vertx v : members) {
          TestCluster.await(v.close());
        }
      }
    }
  }
}
