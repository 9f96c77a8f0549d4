package depot.directory;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Lock;

/**
 * Cluster-wide mutual exclusion that also holds inside one node.
 *
 * <p>Vert.x 5's Hazelcast lock is {@code IMap.tryLock} taken on a worker thread, and Hazelcast map locks are
 * reentrant per (member, thread): two requests of one node that happen to run on the same worker thread both
 * get the "lock" (seen as duplicate ranks when registrations raced). A local lock of the same name first
 * serializes the node's own requests; the cluster lock then excludes the other members.
 */
final class ClusterLocks {
  private ClusterLocks() {
  }

  static Future<Lock> acquire(Vertx vertx, String name, long timeoutMs) {
    return vertx.sharedData().getLocalLockWithTimeout(name, timeoutMs).compose(local ->
        vertx.sharedData().getLockWithTimeout(name, timeoutMs)
            .<Lock>map(cluster -> () -> {
              cluster.release();
              local.release();
            })
            .onFailure(err -> local.release()));
  }
}
