package depot.storage;

import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import depot.protocol.SuspectReport;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Receives a {@link BlobBatch} of small replicas and, while it arrives, forwards the same bytes to the next
 * node of the pipeline, as {@link BlobWriter} does for one replica. Each replica goes to a pack (one group
 * commit for the whole batch, usually) and is reported on its own: a replica that fails here fails only
 * its own deposit.
 */
public final class BatchWriter {
  private static final Logger log = LoggerFactory.getLogger(BatchWriter.class);
  public static final String PATH = "/internal/v1/batches";

  private final Vertx vertx;
  private final BlobStore store;
  private final HttpClient client;
  private final String nodeId;
  private final int chunkSize;
  private final String clusterSecret;

  public BatchWriter(Vertx vertx, BlobStore store, HttpClient client, String nodeId, int chunkSize,
                     String clusterSecret) {
    this.vertx = vertx;
    this.store = store;
    this.client = client;
    this.nodeId = nodeId;
    this.chunkSize = chunkSize;
    this.clusterSecret = clusterSecret;
  }

  /**
   * Takes the batch from {@code req} (paused, {@code length} bytes announced). A copy written
   * {@code forUpstream} takes each announced SHA-256 as its own, as {@link BlobWriter} does. Completes with
   * {@code {"results": [{"blobId", "sha256", "size", "stored": [...], "failed": [...]}]}}, in batch order.
   */
  public Future<JsonObject> write(HttpServerRequest req, long length, List<PipelineHop> downstream, boolean forUpstream) {
    return new Transfer(req, length, downstream, forUpstream).run();
  }

  private final class Transfer {
    private final HttpServerRequest source;
    private final long length;
    private final List<PipelineHop> downstream;
    private final boolean forUpstream;
    private final Buffer body;
    private final Promise<JsonObject> done = Promise.promise();
    /** The next hop's report, or null once it is lost (every replica then lists it as failed). */
    private final Promise<JsonObject> downstreamReport = Promise.promise();
    private String downstreamError;
    private HttpClientRequest down;

    Transfer(HttpServerRequest source, long length, List<PipelineHop> downstream, boolean forUpstream) {
      this.source = source;
      this.length = length;
      this.downstream = downstream;
      this.forUpstream = forUpstream;
      this.body = Buffer.buffer((int) length);
    }

    Future<JsonObject> run() {
      source.exceptionHandler(this::fail);
      if (downstream.isEmpty()) {
        downstreamReport.complete(null);
        start();
        return done.future();
      }
      openDownstream().onComplete(ar -> {
        if (done.future().isComplete()) {
          if (ar.succeeded()) {
            ar.result().reset();
          }
          return;
        }
        if (ar.failed()) {
          downstreamFailed(ar.cause());
        } else {
          down = ar.result();
          down.exceptionHandler(this::downstreamFailed);
          down.drainHandler(v -> source.resume());
          NextHop.report(down)
              .onSuccess(downstreamReport::tryComplete)
              .onFailure(this::downstreamFailed);
        }
        start();
      });
      return done.future();
    }

    private Future<HttpClientRequest> openDownstream() {
      return client.request(NextHop.put(downstream, PATH, length, clusterSecret, nodeId));
    }

    private void start() {
      source.handler(buf -> {
        if (body.length() + buf.length() > length) {
          fail(new DepotException(ErrorCode.SIZE_MISMATCH, "more than the announced " + length + " bytes"));
          return;
        }
        body.appendBuffer(buf);
        if (down != null && !downstreamReport.future().isComplete()) {
          down.write(buf);
          if (down.writeQueueFull()) {
            source.pause();
          }
        }
      });
      source.endHandler(v -> onEnd());
      source.resume();
    }

    private void onEnd() {
      if (done.future().isComplete()) {
        return;
      }
      if (body.length() != length) {
        fail(new DepotException(ErrorCode.SIZE_MISMATCH, "expected " + length + " bytes, received " + body.length()));
        return;
      }
      List<BlobBatch.Entry> entries;
      try {
        entries = BlobBatch.decode(body);
      } catch (DepotException e) {
        fail(e);
        return;
      }
      if (down != null && !downstreamReport.future().isComplete()) {
        down.end();
      }
      List<Future<JsonObject>> results = new ArrayList<>(entries.size());
      for (BlobBatch.Entry entry : entries) {
        results.add(storeLocally(entry));
      }
      Future.join(results).onComplete(ignored -> downstreamReport.future().onComplete(reportAr -> {
        Map<String, JsonObject> downstreamResults = new HashMap<>();
        if (reportAr.result() != null) {
          for (Object o : reportAr.result().getJsonArray("results", new JsonArray())) {
            JsonObject r = (JsonObject) o;
            downstreamResults.put(r.getString("blobId"), r);
          }
        }
        JsonArray out = new JsonArray();
        for (Future<JsonObject> local : results) {
          out.add(merge(local.result(), downstreamResults.get(local.result().getString("blobId"))));
        }
        done.tryComplete(new JsonObject().put("results", out));
      }));
    }

    /** This node's copy of one entry: never fails, a failed write is reported in the entry's result. */
    private Future<JsonObject> storeLocally(BlobBatch.Entry entry) {
      boolean hashWhole = entry.announcedSha256() == null || !forUpstream;
      StreamDigest digest = new StreamDigest(chunkSize, hashWhole);
      digest.update(entry.data());
      String computed = digest.finish();
      String sha256 = computed != null ? computed : entry.announcedSha256();
      String chunks = digest.chunkFingerprint();
      BlobManifest manifest = new BlobManifest(entry.blobId(), entry.data().length(), sha256, chunkSize,
          digest.chunkCrcs(), Instant.now().toString());
      JsonObject result = new JsonObject().put("blobId", entry.blobId()).put("sha256", sha256)
          .put("size", entry.data().length());
      return store.commitPacked(manifest, entry.data())
          .map(v -> result.put("stored", new JsonArray().add(NextHop.copy(nodeId, sha256, chunks)))
              .put("failed", new JsonArray()))
          .otherwise(err -> {
            log.error("could not store replica {}: {}", entry.blobId(), err.getMessage());
            return result.put("stored", new JsonArray()).put("failed", new JsonArray()
                .add(new JsonObject().put("node", nodeId).put("error", "replica write failed: " + err.getMessage())));
          });
    }

    /** Adds the next hops' copies of an entry that match this node's chunk checksums and SHA-256. */
    private JsonObject merge(JsonObject local, JsonObject fromDownstream) {
      JsonArray stored = local.getJsonArray("stored");
      JsonArray failed = local.getJsonArray("failed");
      if (fromDownstream == null) {
        if (!downstream.isEmpty()) {
          failed.add(new JsonObject().put("node", downstream.get(0).nodeId())
              .put("error", downstreamError != null ? downstreamError : "the next hop did not report this replica"));
        }
        return local;
      }
      fromDownstream.getJsonArray("failed", new JsonArray()).forEach(failed::add);
      String chunks = stored.isEmpty() ? null : stored.getJsonObject(0).getString("chunks");
      for (Object o : fromDownstream.getJsonArray("stored", new JsonArray())) {
        JsonObject replica = (JsonObject) o;
        // With this copy lost, the SHA-256 alone decides (the next hops took the announced one only if the
        // client gave it).
        if (NextHop.sameContent(local.getString("sha256"), chunks, replica)) {
          stored.add(replica);
        } else {
          failed.add(NextHop.differs(replica));
        }
      }
      return local;
    }

    private void downstreamFailed(Throwable err) {
      if (downstreamReport.future().isComplete()) {
        return;
      }
      String hop = downstream.get(0).nodeId();
      log.warn("pipeline hop {} failed for a batch: {}", hop, err.getMessage());
      downstreamError = String.valueOf(err.getMessage());
      SuspectReport.send(vertx, hop, "pipeline hop from " + nodeId + " failed: " + err.getMessage());
      downstreamReport.tryComplete(null);
      if (down != null) {
        down.reset();
      }
      source.resume();
    }

    private void fail(Throwable err) {
      if (done.future().isComplete()) {
        return;
      }
      // Settled first: the next hop's error on the reset below is this node's doing, not a failed hop.
      boolean forwarding = down != null && !downstreamReport.future().isComplete();
      downstreamReport.tryComplete(null);
      if (forwarding) {
        down.reset();
      }
      done.tryFail(err);
    }
  }
}
