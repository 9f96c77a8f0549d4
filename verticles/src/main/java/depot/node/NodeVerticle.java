package depot.node;

import depot.config.DepotConfig;
import depot.coordinator.CatalogCopyVerticle;
import depot.coordinator.CoordinatorVerticle;
import depot.directory.DirectoryVerticle;
import depot.gateway.GatewayVerticle;
import depot.storage.StorageVerticle;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * The main verticle of every Depot process: reads the roles from its config and deploys one small
 * verticle per role (directory, coordinator, storage, gateway), then the agent that registers the node.
 */
public class NodeVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(NodeVerticle.class);

  private DepotConfig depot;
  private NodeIdentity identity;
  private String adminToken;
  private StorageVerticle storage;
  private GatewayVerticle gateway;

  public NodeVerticle() {
  }

  /** For in-process clusters ({@code dev}, tests): the config is given, not read from {@code -conf}. */
  public NodeVerticle(DepotConfig depot) {
    this.depot = depot;
  }

  public DepotConfig depotConfig() {
    return depot;
  }

  public String nodeId() {
    return identity.nodeId();
  }

  public String adminToken() {
    return adminToken;
  }

  /** The gateway's port, or -1 when this node has no gateway role. */
  public int gatewayPort() {
    return gateway == null ? -1 : gateway.port();
  }

  public StorageVerticle storage() {
    return storage;
  }

  @Override
  public Future<?> start() {
    if (depot == null) {
      depot = DepotConfig.resolve(config());
    }
    return vertx.executeBlocking(() -> {
          identity = NodeIdentity.load(Path.of(depot.dataDir()), depot.nodeId());
          adminToken = depot.hasRole(DepotConfig.ROLE_GATEWAY) ? AdminToken.resolve(depot) : null;
          return identity;
        })
        .compose(id -> deployIf(DepotConfig.ROLE_STORAGE, () -> storage = new StorageVerticle(depot, id.nodeId())))
        .compose(v -> deployIf(DepotConfig.ROLE_DIRECTORY, () -> new DirectoryVerticle(depot, identity.nodeId(), identity::rank)))
        .compose(v -> deployIf(DepotConfig.ROLE_COORDINATOR, () -> new CoordinatorVerticle(depot, identity.nodeId(), identity::rank)))
        // A coordinator keeps the catalog anyway; a storage node alone keeps a copy on disk.
        .compose(v -> depot.hasRole(DepotConfig.ROLE_STORAGE) && !depot.hasRole(DepotConfig.ROLE_COORDINATOR)
            ? vertx.deployVerticle(new CatalogCopyVerticle(depot, identity.nodeId())) : Future.succeededFuture(""))
        .compose(v -> deployIf(DepotConfig.ROLE_GATEWAY, () -> gateway = new GatewayVerticle(depot, adminToken, depot.metricsRegistry())))
        .compose(v -> vertx.deployVerticle(new NodeAgentVerticle(depot, identity, endpoints(),
            () -> storage != null ? storage.stats() : Future.succeededFuture(new JsonObject()))))
        .onSuccess(v -> log.info("node {} up with roles {}, network transport {}", identity.nodeId(), depot.roles(),
            transportInUse()));
  }

  /**
   * What the log says about the network transport, read from Vert.x itself (the setting may have been
   * overridden by {@code -options}): Vert.x keeps a cause only when native was asked for and did not load.
   */
  private String transportInUse() {
    if (vertx.isNativeTransportEnabled()) {
      return "native epoll";
    }
    Throwable unavailable = vertx.unavailableNativeTransportCause();
    return unavailable == null ? "NIO" : "NIO (native epoll unavailable: " + unavailable.getMessage() + ")";
  }

  private Future<String> deployIf(String role, java.util.function.Supplier<VerticleBase> verticle) {
    return depot.hasRole(role) ? vertx.deployVerticle(verticle.get()) : Future.succeededFuture("");
  }

  private JsonObject endpoints() {
    JsonObject endpoints = new JsonObject();
    String host = depot.advertisedHost();
    if (storage != null) {
      endpoints.put("storage", "http://" + host + ":" + storage.port());
    }
    if (gateway != null) {
      endpoints.put("gateway", "http://" + host + ":" + gateway.port());
    }
    return endpoints;
  }
}
