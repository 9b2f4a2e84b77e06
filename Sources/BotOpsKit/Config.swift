import Foundation
import Remote
import Yams

/// botops.yml. Every field has the user's production value as its default except `host`, which
/// must be given.
public struct BotOpsConfig: Sendable, Equatable {
    public struct Compose: Sendable, Equatable {
        public var file = "docker-compose.aws.yml"
        public var envFile = ".env"
        public var command = ComposeCommand.auto
    }

    public enum ComposeCommand: String, Sendable, Equatable {
        case auto
        case v2 = "docker compose"
        case v1 = "docker-compose"
    }

    public struct Database: Sendable, Equatable {
        public var container = "db"
        public var user = "bot_user"
        public var name = "bot_trader_db"
    }

    public struct Checks: Sendable, Equatable {
        public var reportScript = "weekly_strategy_review.sh"
        public var queries = ["weekly_symbol_performance.sql", "weekly_signal_quality.sql", "weekly_timing_analysis.sql"]
        public var reportGlob = "logs/weekly_review_*.txt"
        public var linkageWindow = "1 day"
        public var minLinkedTrades = 1
        /// Percent; nil leaves the linkage rate informational.
        public var minLinkageRate: Double?
    }

    public struct Health: Sendable, Equatable {
        public var timeout: Duration = .seconds(60)
        public var stableFor: Duration = .seconds(10)
    }

    public var host: String
    /// ssh client config used to resolve `host`; `~/.ssh/config` when not set.
    public var sshConfig: String?
    public var path = "/opt/bot"
    public var branch = "main"
    public var compose = Compose()
    public var services = ["sighook", "webhook", "report-job"]
    public var database = Database()
    public var checks = Checks()
    public var health = Health()
    /// `notify.command`: run with the verify report on its stdin when `verify --notify` finds a
    /// failure or a missed scheduled run (a mail or chat webhook script).
    public var notifyCommand: String?
    /// `state_dir`, `lock:`, `releases:`, `deploy:`, `playbooks:`: what `botops deploy` uses.
    public var deploy = DeploySettings()
    /// `backup:`: where backups go, free space, retention, how old the newest may be.
    public var backup = BackupSettings()

    public init(host: String) {
        self.host = host
    }
}

/// A problem in botops.yml: which file, which line, which key, and what was expected.
public struct ConfigError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    public var file: String
    public var line: Int?
    public var key: String?
    public var problem: String

    public init(file: String, line: Int? = nil, key: String? = nil, problem: String) {
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return key.map { "\(location): key '\($0)': \(problem)" } ?? "\(location): \(problem)"
    }

    public var exitCode: BotOpsExitCode { .usage }
}

extension BotOpsConfig {
    /// Loads `path`, reporting the first problem with its line.
    public static func load(path: String) throws -> BotOpsConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
            throw ConfigError(file: path, problem: "\(reason). Check the path given to --config (botops.yml in the botops repository is an example).")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    public static func parse(_ text: String, file: String = "botops.yml") throws -> BotOpsConfig {
        guard let root = try MappingReader.document(text, file: file) else {
            throw ConfigError(file: file, problem: "the file is empty; it needs at least 'host:'.")
        }
        let top = try MappingReader(root, path: "", file: file)
        guard let host = try top.string("host") else {
            throw ConfigError(file: file, line: root.mark?.line, key: "host", problem: "missing; set it to an ssh config alias or user@host[:port] (e.g. host: bottrader-aws).")
        }
        var config = BotOpsConfig(host: host)
        config.sshConfig = try top.string("ssh_config")
        config.path = try top.string("path", validate: absolutePath) ?? config.path
        config.branch = try top.string("branch", validate: gitRef) ?? config.branch
        config.services = try top.names("services") ?? config.services

        if let compose = try top.mapping("compose") {
            config.compose.file = try compose.string("file", validate: relativePath) ?? config.compose.file
            config.compose.envFile = try compose.string("env_file", validate: relativePath) ?? config.compose.envFile
            if let command = try compose.string("command", validate: { ComposeCommand(rawValue: $0) == nil ? "expected one of: auto, docker compose, docker-compose" : nil }) {
                config.compose.command = ComposeCommand(rawValue: command)!
            }
            try compose.rejectUnknownKeys()
        }
        if let database = try top.mapping("database") {
            config.database.container = try database.name("container") ?? config.database.container
            config.database.user = try database.name("user") ?? config.database.user
            config.database.name = try database.name("name") ?? config.database.name
            try database.rejectUnknownKeys()
        }
        if let checks = try top.mapping("checks") {
            try checks.retired("cron_match", because: "cron-scheduled now finds the schedule line that runs path/report_script itself; delete this line")
            config.checks.reportScript = try checks.string("report_script", validate: relativePath) ?? config.checks.reportScript
            config.checks.queries = try checks.strings("queries", validate: fileName) ?? config.checks.queries
            config.checks.reportGlob = try checks.string("report_glob", validate: relativePath) ?? config.checks.reportGlob
            config.checks.linkageWindow = try checks.string("linkage_window", validate: interval) ?? config.checks.linkageWindow
            config.checks.minLinkedTrades = try checks.int("min_linked_trades", range: 0...1_000_000) ?? config.checks.minLinkedTrades
            config.checks.minLinkageRate = try checks.percentage("min_linkage_rate")
            try checks.rejectUnknownKeys()
        }
        if let health = try top.mapping("health") {
            config.health.timeout = try health.duration("timeout") ?? config.health.timeout
            config.health.stableFor = try health.duration("stable_for") ?? config.health.stableFor
            try health.rejectUnknownKeys()
        }
        try config.deploy.read(from: top)
        try config.backup.read(from: top)
        if let notify = try top.mapping("notify") {
            config.notifyCommand = try notify.string("command")
            try notify.rejectUnknownKeys()
        }
        try top.rejectUnknownKeys()
        return config
    }
}

// MARK: - Value rules (nil when valid, otherwise what is expected)

// Paths reach the host's shell only through shellQuote; control characters are refused because
// botops reads the host's answers line by line.

private func absolutePath(_ value: String) -> String? {
    value.hasPrefix("/") && !hasControlCharacters(value) ? nil : "expected an absolute path such as /opt/bot"
}

private func relativePath(_ value: String) -> String? {
    !value.isEmpty && !value.hasPrefix("/") && !value.split(separator: "/").contains("..") && !hasControlCharacters(value)
        ? nil : "expected a path inside the checkout (relative, no '..')"
}

/// A file name in a known directory (the queries): no '/', nothing a shell would read.
private func fileName(_ value: String) -> String? {
    Name.isValid(value) && value != "." && value != ".."
        ? nil : "expected a file name of letters, digits, '_', '.', '-' (such as weekly_signal_quality.sql)"
}

private func hasControlCharacters(_ value: String) -> Bool {
    value.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
}

private func gitRef(_ value: String) -> String? {
    Name.isValid(value.replacing("/", with: "-")) ? nil : "expected a git branch name"
}

private func interval(_ value: String) -> String? {
    let parts = value.split(separator: " ")
    let units = ["minute", "minutes", "hour", "hours", "day", "days", "week", "weeks"]
    return parts.count == 2 && Int(parts[0]) != nil && units.contains(String(parts[1]))
        ? nil : "expected an interval such as '1 day', '12 hours' or '30 minutes'"
}
