package depot.protocol;

import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;

/**
 * HTTP settings shared by the servers and clients that carry file bytes: the gateway's and the storage nodes'
 * endpoints, the gateway's client that relays reads, and the storage nodes' client that forwards and copies.
 */
public final class DataPathHttp {
  private DataPathHttp() {}

  /**
   * Largest body piece handed to a handler, on a server (request bodies) and on a client (response bodies).
   * Vert.x's default (8 KiB) costs a dispatch, a checksum update and a disk or socket write per 8 KiB; Netty
   * reads up to 64 KiB at a time, and this lets a piece be that.
   */
  public static final int MAX_CHUNK_SIZE = 256 * 1024;

  public static HttpServerOptions serverOptions() {
    return new HttpServerOptions().setTcpNoDelay(true).setMaxChunkSize(MAX_CHUNK_SIZE);
  }

  public static HttpClientOptions clientOptions() {
    return new HttpClientOptions().setConnectTimeout(5000).setTcpNoDelay(true).setMaxChunkSize(MAX_CHUNK_SIZE);
  }
}
