import ArgumentParser
import BotOpsKit
import Foundation
import Remote

struct Exec: HostCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command on the host, streaming its output, and exit with its status.",
        discussion: """
            One argument is a shell command line, run as written: botops exec -- 'crontab -l | grep weekly'.
            Several arguments are an argument vector, each quoted: botops exec -- ls -la '/opt/bot/my file'.
            A command killed by a signal exits with 128 + the signal number, as in a shell.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("Give up after this many seconds (at most 86400).", valueName: "seconds"), transform: parseSeconds)
    var timeout: Duration?

    @Argument(parsing: .captureForPassthrough, help: "The command, after --.")
    var command: [String] = []

    /// The command without the `--` that ends botops' own options.
    private var argv: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    func validate() throws {
        guard !argv.isEmpty else { throw ValidationError("nothing to run: botops exec -- COMMAND") }
    }

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let line = argv.count == 1 ? argv[0] : shellCommand(argv)
        // Like ssh: botops's stdin goes to the command, then end-of-file.
        let termination = try await session.host().stream(line, timeout: timeout, input: .standardInput) { stream, bytes in
            try? (stream == .stdout ? FileHandle.standardOutput : FileHandle.standardError).write(contentsOf: bytes)
        }
        if termination == .noExitStatus {
            FileHandle.standardError.write(Data("botops: the command ended with \(termination)\n".utf8))
        }
        return ExitStatus(passingThrough: termination.shellStatus)
    }
}
