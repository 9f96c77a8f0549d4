package depot.storage;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

/** A small replica gathered in memory (bounded by the small-blob limit) and appended to a pack. */
final class PackedSink implements ReplicaSink {
  private final BlobStore store;
  private final Buffer data;

  PackedSink(BlobStore store, long size) {
    this.store = store;
    this.data = Buffer.buffer((int) size);
  }

  @Override
  public Future<Void> open() {
    return Future.succeededFuture();
  }

  @Override
  public void write(Buffer buf) {
    data.appendBuffer(buf);
  }

  @Override
  public boolean full() {
    return false;
  }

  @Override
  public void drainHandler(Runnable onDrain) {
    // never full
  }

  @Override
  public void exceptionHandler(Handler<Throwable> handler) {
    // memory does not fail
  }

  @Override
  public Future<Void> commit(BlobManifest manifest) {
    return store.commitPacked(manifest, data);
  }

  @Override
  public void abort() {
    // nothing reached the disk
  }
}
