package depot.storage;

import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import depot.protocol.Headers;
import depot.protocol.SuspectReport;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;

/**
 * Receives one replica from a stream and, while writing it, forwards the same bytes to the next node of
 * the pipeline (no store-and-forward). Backpressure runs end to end: the source pauses while either the
 * local sink or the downstream connection is full. The local copy is durable before this node answers;
 * a failing downstream does not fail the local copy, it is reported.
 */
public final class BlobWriter {
  private static final Logger log = LoggerFactory.getLogger(BlobWriter.class);
  /**
   * One disk write of a direct replica, and how many a replica may hold: the network fills one while the
   * disk takes another. 4 MiB writes beat 1 MiB ones by a fifth on the project's virtual disk.
   */
  private static final int DIRECT_BUFFER_SIZE = 4 * 1024 * 1024;
  private static final int DIRECT_BUFFERS_PER_WRITE = 3;

  private final Vertx vertx;
  private final BlobStore store;
  private final HttpClient client;
  private final String nodeId;
  private final int chunkSize;
  private final long smallBlobMax;
  private final String clusterSecret;
  /** Null when replicas are written through the page cache (no O_DIRECT here, or turned off). */
  private final AlignedBuffers directBuffers;

  public BlobWriter(Vertx vertx, BlobStore store, HttpClient client, String nodeId, int chunkSize, long smallBlobMax,
                    String clusterSecret, long directIoBufferBytes) {
    this.vertx = vertx;
    int alignment = store.directIoAlignment();
    this.directBuffers = alignment > 0 && directIoBufferBytes >= DIRECT_BUFFER_SIZE
        ? new AlignedBuffers(DIRECT_BUFFER_SIZE, alignment, directIoBufferBytes) : null;
    this.store = store;
    this.client = client;
    this.nodeId = nodeId;
    this.chunkSize = chunkSize;
    this.smallBlobMax = smallBlobMax;
    this.clusterSecret = clusterSecret;
  }

  /**
   * Writes {@code size} bytes from {@code source} (paused by the caller) as replica {@code blobId}, hashing
   * them whole. Completes with {@code {"sha256", "size", "stored": [{"node","sha256","chunks"}],
   * "failed": [{"node","error"}]}}.
   */
  public Future<JsonObject> write(ReadStream<Buffer> source, String blobId, long size, List<PipelineHop> downstream) {
    return write(source, blobId, size, downstream, null, false, 0);
  }

  /**
   * Like {@link #write(ReadStream, String, long, List)}, passing on the SHA-256 the client announced. A copy
   * written {@code forUpstream} (the previous node of a pipeline, which compares chunk checksums) takes an
   * announced SHA-256 as its own instead of hashing the content again: one whole hash per deposit, at the
   * head, however many replicas follow it. A head given the deposit's {@code writeQuorum} fails as soon as
   * its next hop is lost if its own copy alone would be too few, rather than after taking the whole body.
   */
  public Future<JsonObject> write(ReadStream<Buffer> source, String blobId, long size, List<PipelineHop> downstream,
                                  String announcedSha256, boolean forUpstream, int writeQuorum) {
    boolean hashWhole = announcedSha256 == null || !forUpstream;
    return new Transfer(source, blobId, size, downstream, sinkFor(blobId, size), announcedSha256, hashWhole,
        writeQuorum).run();
  }

  /** Small replicas go to a pack; large ones to their own file, with O_DIRECT while buffers for it are free. */
  private ReplicaSink sinkFor(String blobId, long size) {
    if (size <= smallBlobMax) {
      return new PackedSink(store, size);
    }
    if (directBuffers != null) {
      List<ByteBuffer> buffers = directBuffers.take(DirectFileSink.buffersFor(size, directBuffers, DIRECT_BUFFERS_PER_WRITE));
      if (!buffers.isEmpty()) {
        return new DirectFileSink(vertx, store, directBuffers, buffers, blobId);
      }
    }
    return new FileSink(vertx, store, blobId);
  }

  /** Opens the request to the next hop, handing it the rest of the pipeline. */
  private Future<HttpClientRequest> openDownstream(String blobId, long size, List<PipelineHop> downstream,
                                                   String announcedSha256) {
    RequestOptions options = NextHop.put(downstream, "/internal/v1/blobs/" + blobId, size, clusterSecret, nodeId);
    if (announcedSha256 != null) {
      options.putHeader(Headers.SHA256, announcedSha256);
    }
    return client.request(options);
  }

  private final class Transfer {
    private final ReadStream<Buffer> source;
    private final String blobId;
    private final long size;
    private final List<PipelineHop> downstream;
    private final ReplicaSink sink;
    private final String announcedSha256;
    private final int writeQuorum;
    private final StreamDigest digest;
    private final Promise<JsonObject> done = Promise.promise();
    private final JsonArray failed = new JsonArray();
    private final Promise<JsonArray> downstreamStored = Promise.promise();
    private HttpClientRequest down;
    private boolean downAlive;
    /** Set once the source's handlers are in place: only then may it be resumed. */
    private boolean started;
    private boolean paused = true;
    private boolean finished;
    private long received;
    /** Set when the next hop is lost and this copy alone cannot make the write quorum. */
    private DepotException quorumLost;

    Transfer(ReadStream<Buffer> source, String blobId, long size, List<PipelineHop> downstream, ReplicaSink sink,
             String announcedSha256, boolean hashWhole, int writeQuorum) {
      this.announcedSha256 = announcedSha256;
      this.writeQuorum = writeQuorum;
      this.digest = new StreamDigest(chunkSize, hashWhole);
      this.source = source;
      this.blobId = blobId;
      this.size = size;
      this.downstream = downstream;
      this.sink = sink;
    }

    Future<JsonObject> run() {
      // Set at once: a sender that vanishes while the file and the next hop are still opening must be seen.
      source.exceptionHandler(this::fail);
      Future<Void> opened = sink.open();
      Future<HttpClientRequest> forwarded = downstream.isEmpty()
          ? Future.succeededFuture()
          : openDownstream(blobId, size, downstream, announcedSha256).recover(err -> {
            downstreamFailed(err);
            return Future.succeededFuture();
          });
      Future.join(opened, forwarded).onComplete(ar -> {
        if (done.future().isComplete()) {
          // The sender failed meanwhile: release what was opened.
          if (forwarded.result() != null) {
            forwarded.result().reset();
          }
          sink.abort();
          return;
        }
        if (opened.failed()) {
          if (forwarded.result() != null) {
            forwarded.result().reset();
          }
          fail(opened.cause());
          return;
        }
        down = forwarded.result();
        start();
      });
      return done.future();
    }

    private void start() {
      sink.exceptionHandler(this::fail);
      sink.drainHandler(this::maybeResume);
      if (down != null) {
        downAlive = true;
        down.drainHandler(v -> maybeResume());
        down.exceptionHandler(this::downstreamFailed);
        NextHop.report(down)
            .onSuccess(reply -> {
              reply.getJsonArray("failed", new JsonArray()).forEach(failed::add);
              downstreamStored.tryComplete(reply.getJsonArray("stored", new JsonArray()));
            })
            .onFailure(this::downstreamFailed);
      } else {
        downstreamStored.tryComplete(new JsonArray());
      }
      if (quorumLost != null) {
        // The next hop was lost before the transfer started: refused while the file was opening, or reset
        // after accepting, its failed report then coming back at once above. The sender hears now, not after
        // its whole body.
        fail(quorumLost);
        return;
      }
      source.handler(this::onData);
      source.exceptionHandler(this::fail);
      source.endHandler(v -> onEnd());
      started = true;
      paused = false;
      source.resume();
    }

    private void onData(Buffer buf) {
      if (finished) {
        return;
      }
      received += buf.length();
      if (received > size) {
        fail(new DepotException(ErrorCode.SIZE_MISMATCH, "more than the announced " + size + " bytes"));
        return;
      }
      digest.update(buf);
      sink.write(buf);
      if (downAlive) {
        down.write(buf);
      }
      if (sink.full() || (downAlive && down.writeQueueFull())) {
        paused = true;
        source.pause();
      }
    }

    private void maybeResume() {
      // Not before start(): a source resumed without its handler drops the bytes it has queued, and a next
      // hop refused while the local file is still opening would do exactly that (the deposit then hung).
      if (started && paused && !finished && !sink.full() && !(downAlive && down.writeQueueFull())) {
        paused = false;
        source.resume();
      }
    }

    private void downstreamFailed(Throwable err) {
      if (downstreamStored.future().isComplete()) {
        return;
      }
      String hop = downstream.get(0).nodeId();
      log.warn("pipeline hop {} failed for blob {}: {}", hop, blobId, err.getMessage());
      failed.add(new JsonObject().put("node", hop).put("error", String.valueOf(err.getMessage())));
      SuspectReport.send(vertx, hop, "pipeline hop from " + nodeId + " failed: " + err.getMessage());
      boolean wasAlive = downAlive;
      downAlive = false;
      if (wasAlive && down != null) {
        down.reset();
      }
      downstreamStored.tryComplete(new JsonArray());
      if (writeQuorum > 1 && !finished) {
        // Every copy after this node went with its next hop: the deposit cannot count, so the client hears at
        // once (and its retry is placed without the lost node) instead of after sending the whole body.
        quorumLost = new DepotException(ErrorCode.UNAVAILABLE, "pipeline hop " + hop + " failed (" + err.getMessage()
            + "); this node's copy alone is fewer than the " + writeQuorum + " replicas required");
        if (started) {
          fail(quorumLost);
        }
        return;
      }
      maybeResume();
    }

    private void onEnd() {
      if (finished) {
        return;
      }
      if (received != size) {
        fail(new DepotException(ErrorCode.SIZE_MISMATCH, "expected " + size + " bytes, received " + received));
        return;
      }
      finished = true;
      String computed = digest.finish();
      String sha256 = computed != null ? computed : announcedSha256;
      String chunks = digest.chunkFingerprint();
      BlobManifest manifest = new BlobManifest(blobId, size, sha256, chunkSize, digest.chunkCrcs(), Instant.now().toString());
      if (downAlive) {
        down.end();
      }
      sink.commit(manifest).onComplete(ar -> downstreamStored.future().onComplete(downAr -> {
        if (ar.failed()) {
          log.error("could not store replica {}: {}", blobId, ar.cause().getMessage());
          sink.abort();
          if (downAlive) {
            down.reset();
          }
          done.tryFail(new DepotException(ErrorCode.INTERNAL, "replica write failed on " + nodeId + ": " + ar.cause().getMessage()));
          return;
        }
        JsonArray stored = new JsonArray().add(NextHop.copy(nodeId, sha256, chunks));
        for (Object o : downAr.result()) {
          JsonObject replica = (JsonObject) o;
          // Same chunk checksums, same bytes as this copy (and so as the content this head hashed).
          if (NextHop.sameContent(sha256, chunks, replica)) {
            stored.add(replica);
          } else {
            failed.add(NextHop.differs(replica));
          }
        }
        done.tryComplete(new JsonObject().put("sha256", sha256).put("size", size).put("stored", stored).put("failed", failed));
      }));
    }

    private void fail(Throwable err) {
      if (done.future().isComplete()) {
        return;
      }
      finished = true;
      // Settled first: the next hop's error on the reset below is this node's doing, not a failed hop.
      downstreamStored.tryComplete(new JsonArray());
      if (down != null && downAlive) {
        downAlive = false;
        down.reset();
      }
      sink.abort();
      done.tryFail(err);
    }
  }
}
