import Foundation
import HostCommands

/// Where bot-engine, run by cron on the host, reaches the ledger: the db container's port as the
/// host sees it (the container on the host's network listens on its PGPORT; otherwise the port it
/// publishes for PostgreSQL). One probe: `docker inspect` with a template that prints only the
/// network mode, the port bindings and PGPORT — never another variable of the container's
/// environment, where its password lives.
public struct EngineDatabaseURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var database: String

    /// `postgres://USER@HOST:PORT/DATABASE`: no password; libpq reads it from ~/.pgpass. USER and
    /// DATABASE percent-encoded (libpq decodes them): the line is sourced by a shell, where a
    /// space, `$` or quote from botops.yml would split it or run something.
    public var url: String { "postgres://\(Self.encoded(user))@\(host):\(port)/\(Self.encoded(database))" }

    static func encoded(_ part: String) -> String {
        part.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? part
    }

    /// The line `~/botops/engine.env` holds; the crontab.d entries source it with `set -a`.
    public var envLine: String { "BOT_DATABASE_URL=" + url }

    public struct Probe: Sendable {
        let container: String
        let user: String
        let database: String

        public init(container: String, user: String, database: String) {
            self.container = container
            self.user = user
            self.database = database
        }

        public var command: ShellScript {
            let template = "{{.HostConfig.NetworkMode}}|{{range $p, $b := .HostConfig.PortBindings}}{{$p}}={{range $b}}{{.HostIp}}:{{.HostPort}}{{end}};{{end}}|"
                + "{{range .Config.Env}}{{if eq (index (split . \"=\") 0) \"PGPORT\"}}{{.}}{{end}}{{end}}"
            return "docker inspect --type container --format \(template) \(container) 2>&1"
        }

        /// `command` run alone, parsed.
        public var hostProbe: HostProbe<Result<EngineDatabaseURL, Unknown>> {
            HostProbe("docker inspect of \(container)", RemoteCommand(command, timeout: .seconds(30))) { parse($0.stdoutText, succeeded: $0.succeeded) }
        }

        /// The URL, or why it cannot be told (for the operator's message).
        public func parse(_ output: String, succeeded: Bool) -> Result<EngineDatabaseURL, Unknown> {
            let line = output.split(separator: "\n").first.map(String.init) ?? ""
            guard succeeded else {
                return .failure(Unknown(reason: "`docker inspect \(container)` failed on the host (\(terminalSafe(line.trimmingCharacters(in: .whitespaces))))"))
            }
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else { return .failure(Unknown(reason: "`docker inspect \(container)` answered unexpectedly")) }
            let pgport = fields[2].hasPrefix("PGPORT=") ? Int(fields[2].dropFirst("PGPORT=".count)) : nil
            let port = pgport ?? 5432
            if fields[0] == "host" {
                return .success(EngineDatabaseURL(host: "127.0.0.1", port: port, user: user, database: database))
            }
            // "5432/tcp=127.0.0.1:15432;": the first binding of PostgreSQL's port.
            for binding in fields[1].split(separator: ";") {
                let parts = binding.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, parts[0] == "\(port)/tcp", let colon = parts[1].lastIndex(of: ":"),
                      let published = Int(parts[1][parts[1].index(after: colon)...]) else { continue }
                let address = String(parts[1][..<colon])
                // Published on every address (or none named): this host reaches it on loopback.
                let host = ["", "0.0.0.0", "::", "[::]"].contains(address) ? "127.0.0.1" : address
                return .success(EngineDatabaseURL(host: host, port: published, user: user, database: database))
            }
            return .failure(Unknown(reason: "the \(container) container publishes no port for PostgreSQL (\(port)/tcp) and is not on the host's network"))
        }
    }

    public struct Unknown: Error, Sendable, Equatable {
        public var reason: String
    }
}

/// `~/botops/engine.env`, written only when it does not exist (an operator's own is never
/// replaced, never read), mode 600.
public enum EngineEnvFile {
    public static let path = "botops/engine.env"

    public enum Outcome: Sendable, Equatable {
        case created
        /// In a dry run: none exists and the port is known.
        case wouldCreate
        case kept
        /// Not created: why, and what the operator writes instead.
        case notCreated(reason: String, instructions: String)
    }

    /// Creates the file from a private temporary one by `ln`, which refuses an existing name:
    /// two runs, or the operator writing it meanwhile, never lose a file. Prints created or kept.
    static func createScript(line: String) -> ShellScript {
        let header = "# bot-engine's database, for the crontab.d entries that run it (written by botops install-host; edit freely, it is never overwritten). The password: ~/.pgpass, not here."
        return """
            cd && umask 077 && mkdir -p botops || exit 1
            if [ -e \(path) ]; then echo kept; exit 0; fi
            tmp=\(path).new.$$
            printf '%s\\n' \(header) \(line) > "$tmp" || { rm -f "$tmp"; exit 1; }
            if ln "$tmp" \(path) 2>/dev/null; then echo created; else echo kept; fi
            rm -f "$tmp"
            """
    }

    /// What the operator writes when botops cannot: the file, its mode, the line with placeholders.
    static func instructions(user: String, database: String) -> String {
        "write ~/botops/engine.env on the host, mode 600, holding the line "
            + "BOT_DATABASE_URL=postgres://\(user)@HOST:PORT/\(database) (HOST:PORT where the host reaches the db container's PostgreSQL; "
            + "the password in ~/.pgpass): umask 077; printf '%s\\n' 'BOT_DATABASE_URL=postgres://\(user)@HOST:PORT/\(database)' > ~/botops/engine.env"
    }
}
