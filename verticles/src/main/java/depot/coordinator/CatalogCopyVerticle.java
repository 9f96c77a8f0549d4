package depot.coordinator;

import depot.config.DepotConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

import java.nio.file.Path;

/**
 * A storage node's copy of the catalog: the journal only, kept on disk in step with the leading coordinator
 * and not held in memory. It is what a coordinator rebuilds from after losing its own disk, and what makes
 * an acknowledged change survive the loss of any one disk.
 */
public class CatalogCopyVerticle extends VerticleBase {
  private final DepotConfig config;
  private final String nodeId;
  private CatalogJournal journal;
  private CatalogFollower follower;

  public CatalogCopyVerticle(DepotConfig config, String nodeId) {
    this.config = config;
    this.nodeId = nodeId;
  }

  @Override
  public Future<?> start() {
    journal = new CatalogJournal(vertx, Path.of(config.dataDir(), "catalog"));
    // Compacting at start needs the state once; it is dropped right after.
    Catalog compacted = new Catalog();
    return journal.open(compacted::apply, compacted::toOps, compacted::appliedLamport).compose(v -> {
      follower = new CatalogFollower(vertx, nodeId, journal, CatalogFollower.Replica.journalOnly(vertx, journal),
          config.heartbeatIntervalMs(), compacted.appliedLamport(), compacted.appliedTerm());
      return follower.start();
    });
  }

  @Override
  public Future<?> stop() {
    return follower.stop().eventually(() -> journal.close());
  }
}
