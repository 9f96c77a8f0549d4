package depot.protocol;

import io.vertx.core.http.HttpServerOptions;

/** HTTP server settings shared by the endpoints that carry file bytes (the gateway's and the storage nodes'). */
public final class DataPathHttp {
  private DataPathHttp() {}

  /**
   * Largest body piece handed to a handler. Vert.x's default (8 KiB) costs a dispatch, a checksum update
   * and a disk or socket write per 8 KiB; Netty reads up to 64 KiB at a time, and this lets a piece be that.
   */
  public static final int MAX_CHUNK_SIZE = 256 * 1024;

  public static HttpServerOptions serverOptions() {
    return new HttpServerOptions().setTcpNoDelay(true).setMaxChunkSize(MAX_CHUNK_SIZE);
  }
}
