package depot.storage;

import io.github.bucket4j.Bucket;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;

import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Streams a byte range of a replica, checking every chunk against its CRC32C before a byte of it leaves:
 * corrupted bytes are never served. Reads start on a chunk boundary and are re-cut into whole chunks.
 */
public final class BlobReader {
  /** Read this much per disk request; checksums still cover each chunk separately. */
  private static final int READ_BUFFER = 1024 * 1024;

  private final Vertx vertx;
  private final BlobStore store;

  public BlobReader(Vertx vertx, BlobStore store) {
    this.vertx = vertx;
    this.store = store;
  }

  /** Sends bytes {@code [first, last]} of the replica to {@code out}; fails with {@link CorruptReplicaException}. */
  public Future<Void> send(BlobManifest manifest, long first, long last, WriteStream<Buffer> out) {
    return send(manifest, first, last, out, null);
  }

  /**
   * Like {@link #send(BlobManifest, long, long, WriteStream)}, reading the disk no faster than {@code throttle}
   * allows (shared by every stream that uses it); null for no limit. Packed replicas are small and go at once.
   */
  public Future<Void> send(BlobManifest manifest, long first, long last, WriteStream<Buffer> out, Bucket throttle) {
    if (store.isPacked(manifest.blobId())) {
      // Small by construction: read whole (verified), send the asked-for slice.
      return store.readPacked(manifest.blobId()).map(data -> {
        out.write(data.slice((int) first, (int) last + 1));
        return null;
      });
    }
    int chunkSize = manifest.chunkSize();
    long startChunk = first / chunkSize;
    long from = startChunk * chunkSize;
    long to = Math.min(manifest.size(), (last / chunkSize + 1) * chunkSize);
    int readSize = Math.max(chunkSize, (READ_BUFFER / chunkSize) * chunkSize);
    return DirectFileReadStream.open(vertx, Path.of(store.dataPath(manifest.blobId())), from, to - from, readSize)
        .compose(file -> new Send(file, ThrottledReadStream.wrap(vertx, file, throttle), manifest, startChunk, from,
            first, last, out)
            .run(to - from)
            .eventually(file::close));
  }

  private static final class Send {
    /** Lends the buffers {@link #in} delivers: each is recycled once written out. */
    private final DirectFileReadStream file;
    /** The file's bytes, perhaps throttled: the reads are paused and resumed through it. */
    private final ReadStream<Buffer> in;
    private final BlobManifest manifest;
    private final WriteStream<Buffer> out;
    private final long first;
    private final long last;
    private final CRC32C crc = new CRC32C();
    private final Promise<Void> done = Promise.promise();
    private Buffer pending = Buffer.buffer();
    private long chunkIndex;
    private long offset;
    /** Bytes of the range still to come from the disk. */
    private long unread;

    Send(DirectFileReadStream file, ReadStream<Buffer> in, BlobManifest manifest, long startChunk, long from, long first, long last,
         WriteStream<Buffer> out) {
      this.file = file;
      this.in = in;
      this.manifest = manifest;
      this.out = out;
      this.chunkIndex = startChunk;
      this.offset = from;
      this.first = first;
      this.last = last;
    }

    Future<Void> run(long length) {
      unread = length;
      // A reader that goes away mid-transfer ends it at once, not at the next write the closed response refuses.
      out.exceptionHandler(err -> {
        in.pause();
        done.tryFail(err);
      });
      in.exceptionHandler(done::tryFail);
      in.endHandler(v -> finish());
      in.handler(this::onRead);
      return done.future();
    }

    private void finish() {
      Buffer rest = pending;
      pending = Buffer.buffer();
      if (rest.length() > 0 && emit(rest).failed()) {
        return;
      }
      done.tryComplete();
    }

    private void onRead(Buffer buf) {
      if (done.future().isComplete()) {
        file.recycle(buf);
        return;
      }
      boolean carried = pending.length() > 0;
      Buffer data = carried ? pending.appendBuffer(buf) : buf;
      if (carried) {
        file.recycle(buf); // its bytes were copied behind the carried ones
      }
      int chunkSize = manifest.chunkSize();
      int whole = data.length() / chunkSize * chunkSize;
      Future<Void> sent = whole > 0 ? emit(data.slice(0, whole)) : Future.succeededFuture();
      pending = whole == data.length() ? Buffer.buffer() : data.getBuffer(whole, data.length());
      if (!carried) {
        sent.onComplete(v -> file.recycle(buf));
      }
      if (sent.failed()) {
        done.tryFail(sent.cause()); // a corrupt chunk has failed it already; a write refused at once has not
        return;
      }
      unread -= buf.length();
      if (unread <= 0) {
        // All read: done now, not when a throttled stream gets round to reporting its end.
        in.handler(null);
        finish();
        return;
      }
      if (out.writeQueueFull()) {
        in.pause();
        out.drainHandler(v -> in.resume());
      }
    }

    /**
     * Verifies whole chunks (the last one of the replica may be short), then writes the part of them inside
     * the range in one piece: nothing leaves before every chunk it touches is checked. Returns the write (a
     * succeeded future if none of it is inside the range), or a failed future if a chunk is corrupt.
     */
    private Future<Void> emit(Buffer chunks) {
      int chunkSize = manifest.chunkSize();
      int[] crcs = manifest.crcs();
      for (int at = 0; at < chunks.length(); at += chunkSize) {
        crc.reset();
        crc.update(StreamDigest.nio(chunks.slice(at, Math.min(chunks.length(), at + chunkSize))));
        if (chunkIndex >= crcs.length || (int) crc.getValue() != crcs[(int) chunkIndex]) {
          in.pause();
          CorruptReplicaException corrupt = new CorruptReplicaException(manifest.blobId(), chunkIndex);
          done.tryFail(corrupt);
          return Future.failedFuture(corrupt);
        }
        chunkIndex++;
      }
      long regionStart = offset;
      long regionEnd = offset + chunks.length() - 1;
      long sendFrom = Math.max(first, regionStart);
      long sendTo = Math.min(last, regionEnd);
      offset += chunks.length();
      if (sendFrom > sendTo) {
        return Future.succeededFuture();
      }
      try {
        return out.write(chunks.slice((int) (sendFrom - regionStart), (int) (sendTo - regionStart + 1)));
      } catch (IllegalStateException closed) {
        // The response was closed under us: its exception handler may not have run yet.
        in.pause();
        done.tryFail(closed);
        return Future.failedFuture(closed);
      }
    }
  }
}
