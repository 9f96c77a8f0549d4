package depot.storage;

import depot.testing.OnLoop;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Run by {@link PackStoreTest} in a JVM of its own with a heap smaller than the live bytes of the pack it
 * compacts: fills a pack with 200 KiB replicas (never holding more than a few), deletes two of every three and
 * compacts it. Exits 0 when every kept replica reads back afterwards; an out-of-memory ends the JVM otherwise.
 */
public final class CompactionInSmallHeap {
  static final int REPLICA_BYTES = 200 * 1024;

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int replicas = Integer.parseInt(args[1]);
    long rollBytes = Long.parseLong(args[2]);
    Vertx vertx = Vertx.vertx();
    try {
      PackStore packs = new PackStore(vertx, dir, rollBytes, 0);
      packs.openBlocking();
      List<BlobManifest> kept = new ArrayList<>();
      List<Integer> keptSeeds = new ArrayList<>();
      for (int i = 0; i < replicas; i++) {
        Buffer content = PackStoreTest.content(i, REPLICA_BYTES);
        BlobManifest manifest = PackStoreTest.manifest(content);
        OnLoop.run(vertx, () -> packs.put(manifest, content));
        if (i % 3 == 0) {
          kept.add(manifest);
          keptSeeds.add(i);
        } else {
          OnLoop.run(vertx, () -> packs.delete(manifest.blobId()));
        }
      }
      System.out.println("filled and two thirds deleted; compacting");
      int compacted = OnLoop.run(vertx, packs::compactOne);
      if (compacted != 1) {
        throw new IllegalStateException("expected pack 1 to be compacted, got " + compacted);
      }
      for (int i = 0; i < kept.size(); i++) {
        String id = kept.get(i).blobId();
        Buffer read = OnLoop.run(vertx, () -> packs.read(id));
        if (!read.equals(PackStoreTest.content(keptSeeds.get(i), REPLICA_BYTES))) {
          throw new IllegalStateException("replica " + id + " reads back other bytes");
        }
      }
      System.out.println("compacted pack 1; " + kept.size() + " replicas kept and read back");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }
}
