package depot.storage;

import depot.protocol.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.WriteStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * Background bit-rot detection: re-reads every replica against its chunk checksums, at a bounded rate
 * so client traffic keeps the disk, and reports a corrupt replica to the coordinator (which drops it and
 * makes a new copy elsewhere). A full pass is followed by a pause, then the next pass.
 */
final class Scrubber {
  private static final Logger log = LoggerFactory.getLogger(Scrubber.class);
  private static final long MIN_COST = 256 * 1024;

  private final Vertx vertx;
  private final BlobStore store;
  private final BlobReader reader;
  private final String nodeId;
  private final long bytesPerSecond;
  private final long pauseMs;
  /** The replicas of the current pass (held for its whole length, so compactly) and how far it has got. */
  private BlobIdList pass = new BlobIdList();
  private int passed;
  private long timer = -1;
  private boolean stopped;
  private long scrubbed;
  private long corrupt;

  Scrubber(Vertx vertx, BlobStore store, BlobReader reader, String nodeId, long bytesPerSecond, long pauseMs) {
    this.vertx = vertx;
    this.store = store;
    this.reader = reader;
    this.nodeId = nodeId;
    this.bytesPerSecond = bytesPerSecond;
    this.pauseMs = pauseMs;
  }

  void start() {
    if (bytesPerSecond > 0) {
      timer = vertx.setTimer(pauseMs, id -> next());
    }
  }

  void stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  JsonObject stats() {
    return new JsonObject().put("scrubbedReplicas", scrubbed).put("corruptFound", corrupt);
  }

  private void next() {
    if (stopped) {
      return;
    }
    if (passed == pass.size()) {
      pass = store.blobIdList();
      passed = 0;
      if (pass.size() == 0) {
        timer = vertx.setTimer(pauseMs, id -> next());
        return;
      }
    }
    String blobId = pass.get(passed++);
    if (!store.has(blobId)) {
      vertx.runOnContext(v -> next());
      return;
    }
    long started = System.currentTimeMillis();
    store.manifest(blobId)
        .compose(m -> m.size() == 0 ? Future.succeededFuture(0L)
            : reader.send(m, 0, m.size() - 1, new Discard()).map(v -> m.size()))
        .onComplete(ar -> {
          long bytes = ar.succeeded() ? ar.result() : 0;
          if (ar.succeeded()) {
            scrubbed++;
          } else if (ar.cause() instanceof CorruptReplicaException bad) {
            corrupt++;
            log.error("scrubber: {} on {}; telling the coordinator", bad.getMessage(), nodeId);
            vertx.eventBus().send(Addresses.COORDINATOR_REPLICA_CORRUPT,
                new JsonObject().put("node", nodeId).put("blobId", blobId).put("chunk", bad.chunk()));
          }
          // Rate limit: a replica of B bytes is followed by B / rate seconds of rest, minus the time it took.
          // Each replica counts as at least MIN_COST bytes: checking many tiny replicas has a per-replica
          // cost (look-ups, a disk read each) that the byte count alone would not bound.
          long cost = Math.max(bytes, MIN_COST);
          long restMs = Math.max(1, cost * 1000 / bytesPerSecond - (System.currentTimeMillis() - started));
          timer = vertx.setTimer(passed == pass.size() ? Math.max(restMs, pauseMs) : restMs, id -> next());
        });
  }

  /** Where scrubbed bytes go: nowhere; only the checks on the way matter. */
  private static final class Discard implements WriteStream<Buffer> {
    @Override
    public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
      return this;
    }

    @Override
    public Future<Void> write(Buffer data) {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> end() {
      return Future.succeededFuture();
    }

    @Override
    public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
      return this;
    }

    @Override
    public boolean writeQueueFull() {
      return false;
    }

    @Override
    public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
      return this;
    }
  }
}
