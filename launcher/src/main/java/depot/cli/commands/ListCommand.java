package depot.cli.commands;

import depot.cli.Retrying;
import depot.cli.ApiClient;
import depot.cli.CliContext;
import depot.cli.CommandBase;
import depot.cli.FileRecord;
import depot.cli.HumanSize;
import depot.cli.Table;
import depot.cli.TimeFormat;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.ZoneId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Lists the logged-in client's files. */
@Command(name = "list", mixinStandardHelpOptions = true, description = "List your deposited files.")
public final class ListCommand extends CommandBase {

  @Option(names = "--json", description = "Print the server's JSON as is.")
  boolean json;

  public ListCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void execute() throws Exception {
    ApiClient api = clientApi();
    String body = api.requireSuccess(Retrying.call(ctx, "list",
        () -> api.send(api.request(ApiClient.FILES).GET().build(), HttpResponse.BodyHandlers.ofString()),
        HttpResponse::statusCode));
    if (json) {
      ctx.out().println(body.strip());
      return;
    }
    JsonArray files = ApiClient.parseJson(body).getJsonArray("files", new JsonArray());
    if (files.isEmpty()) {
      ctx.out().println("No files deposited.");
      return;
    }
    Table table = new Table("NAME", "SIZE", "REPLICAS", "VERSION", "DEPOSITED", "SHA256").alignRight(1, 2, 3);
    ZoneId zone = ZoneId.systemDefault();
    for (Object item : files) {
      FileRecord f = FileRecord.fromJson((JsonObject) item);
      table.row(f.name(), HumanSize.format(f.size()), f.replicasText(), f.versionText(),
          TimeFormat.local(f.depositedAt(), zone), f.shortSha());
    }
    table.print(ctx.out());
  }
}
