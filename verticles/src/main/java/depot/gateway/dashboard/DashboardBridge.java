package depot.gateway.dashboard;

import depot.protocol.Addresses;
import io.vertx.core.Vertx;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;

/** The dashboard's live feed: a SockJS event-bus bridge that lets only permitted events out and nothing in. */
public final class DashboardBridge {
  private DashboardBridge() {}

  public static void mount(Vertx vertx, Router router) {
    SockJSBridgeOptions options = new SockJSBridgeOptions()
        .addOutboundPermitted(new PermittedOptions().setAddress(Addresses.DIRECTORY_EVENTS));
    router.route("/eventbus/*").subRouter(SockJSHandler.create(vertx).bridge(options));
  }
}
