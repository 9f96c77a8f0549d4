package depot.cli.commands;

import depot.cli.ApiClient;
import depot.cli.CliContext;
import depot.cli.CliException;
import depot.cli.CommandBase;
import depot.cli.ExpectContinueUpload;
import depot.cli.FileRecord;
import depot.cli.Progress;
import depot.cli.Retrying;
import depot.cli.UploadBody;
import depot.cli.Sha256;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Uploads a file. The SHA-256 goes first, in a header, with {@code Expect: 100-continue}: when the server
 * already holds that content for this client it answers at once and the body is never sent.
 */
@Command(name = "deposit", mixinStandardHelpOptions = true, description = "Deposit a file.")
public final class DepositCommand extends CommandBase {
  /** Below this, hashing is over before a progress bar could say anything useful. */
  static final long HASH_PROGRESS_THRESHOLD = 8L << 20;

  @Parameters(index = "0", paramLabel = "FILE", description = "The file to deposit.")
  Path file;

  @Option(names = "--name", paramLabel = "NAME", description = "Name on the server (default: the file's name).")
  String name;

  @Option(names = "--replicas", paramLabel = "N", description = "Number of copies to keep (default: the server's).")
  Integer replicas;

  public DepositCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void execute() throws Exception {
    if (!Files.isRegularFile(file)) {
      throw new CliException(Files.exists(file) ? "not a regular file: " + file : "no such file: " + file);
    }
    if (!Files.isReadable(file)) {
      throw new CliException("cannot read " + file + ": permission denied");
    }
    if (replicas != null && replicas < 1) {
      throw new CliException("--replicas must be at least 1", 2, null);
    }
    String target = name != null ? name : file.getFileName().toString();
    ApiClient api = clientApi();
    long size = Files.size(file);

    String sha256;
    try (Progress progress = Progress.start("hashing", size, ctx.interactive() && size > HASH_PROGRESS_THRESHOLD)) {
      sha256 = Sha256.ofFile(file, progress::update);
    }

    String path = ApiClient.filePath(target) + (replicas == null ? "" : "?replicas=" + replicas);
    ExpectContinueUpload.Response response = Retrying.call(ctx, "deposit of " + target, () -> {
      try (Progress progress = Progress.start("uploading", size, ctx.interactive())) {
        // Sent from disk by sendfile (plain TCP) or in slabs; Content-Length is the file size.
        return api.putExpectingContinue(path,
            Map.of("Content-Type", "application/octet-stream", ApiClient.SHA256_HEADER, sha256),
            UploadBody.ofFile(file, progress::update), size >= ApiClient.DIRECT_UPLOAD_MIN_BYTES);
      }
    }, ExpectContinueUpload.Response::status);
    FileRecord record = FileRecord.fromJson(ApiClient.parseJson(ApiClient.requireSuccess(response.status(), response.body())));
    // A success before the body was sent can only mean the server already had the content.
    boolean dedup = response.header(ApiClient.DEDUP_HEADER).map("true"::equalsIgnoreCase).orElse(false)
        || !response.bodySent();

    ctx.out().println("Deposited " + (record.name() != null ? record.name() : target) + ": "
        + (record.size() >= 0 ? record.size() : size) + " bytes, sha256 "
        + (record.sha256() != null ? record.shortSha() : sha256.substring(0, 12))
        + ", version " + record.versionText()
        + ", replicas " + record.replicasText()
        + " on " + (record.nodes().isEmpty() ? "(no nodes)" : String.join(",", record.nodes()))
        + (dedup ? " (already stored, nothing uploaded)" : ""));
    warnOfMissingReplicas(record, target);
  }
}
