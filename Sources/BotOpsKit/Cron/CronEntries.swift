import Cron
import Foundation

extension EntryError: ExitCodeProviding {
    public var exitCode: BotOpsExitCode { .usage }
}

extension CrontabError: ExitCodeProviding {
    public var exitCode: BotOpsExitCode { .failed }
}

extension AdoptionError: ExitCodeProviding {
    public var exitCode: BotOpsExitCode { .refused }
}

extension RenderError: ExitCodeProviding {
    public var exitCode: BotOpsExitCode { .usage }
}

/// Reads crontab.d: from the working tree, or as it was at a git revision.
public enum CronEntries {
    /// `crontab.d` beside the config file.
    public static func defaultDirectory(configPath: String?) -> String {
        let config = URL(fileURLWithPath: configPath ?? "botops.yml")
        return config.deletingLastPathComponent().appendingPathComponent("crontab.d").path
    }

    /// The one crontab.d rule for the commands that judge the entries (verify, blackout, gate,
    /// status, recover): a `--crontab-dir` must be readable; without one, crontab.d beside
    /// botops.yml is read when there is anything by that name, and only its absence means no
    /// entries. A file in its place or a link to nowhere is an error like an unreadable
    /// directory: "no entries" would let blackout pass a deploy inside a window. `cron diff`,
    /// `install` and `list` use `load(directory:)`, which refuses a missing directory.
    public static func managed(crontabDirectory: String?, configPath: String?) throws -> [CronEntry] {
        if let crontabDirectory { return try load(directory: crontabDirectory) }
        let beside = defaultDirectory(configPath: configPath)
        // lstat, not fileExists: that follows a link and calls a dangling one absent.
        var status = stat()
        if lstat(beside, &status) != 0, errno == ENOENT { return [] }
        return try load(directory: beside)
    }

    /// Every `*.cron` file of `directory`, by name. An empty or missing directory is an error:
    /// installing nothing would remove every managed entry.
    public static func load(directory: String) throws -> [CronEntry] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw EntryError(file: directory, line: nil, problem: "cannot read the directory; pass --crontab-dir DIR or create crontab.d beside botops.yml")
        }
        var files: [(name: String, text: String, source: String)] = []
        for file in names.sorted() where file.hasSuffix(CronEntry.fileExtension) {
            let path = directory + "/" + file
            guard let data = FileManager.default.contents(atPath: path) else {
                throw EntryError(file: path, line: nil, problem: "cannot read the file")
            }
            files.append((String(file.dropLast(CronEntry.fileExtension.count)), String(decoding: data, as: UTF8.self), path))
        }
        return try parse(files, origin: directory)
    }

    /// crontab.d as committed at `revision` in the git repository holding `directory`.
    public static func load(directory: String, revision: String) throws -> [CronEntry] {
        guard !revision.hasPrefix("-"), !revision.isEmpty, !revision.contains(":"), revision.utf8.count < 200,
              !revision.utf8.contains(where: { $0 < 0x21 || $0 == 0x7F })
        else {
            throw EntryError(file: directory, line: nil, problem: "'\(revision)' is not a git revision")
        }
        let top = try git(["rev-parse", "--show-toplevel"], in: directory).trimmingCharacters(in: .whitespacesAndNewlines)
        let resolvedDirectory = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        let resolvedTop = URL(fileURLWithPath: top).resolvingSymlinksInPath().path
        var relative = resolvedDirectory.hasPrefix(resolvedTop) ? String(resolvedDirectory.dropFirst(resolvedTop.count)) : "crontab.d"
        relative = relative.hasPrefix("/") ? String(relative.dropFirst()) : relative
        let commit = try git(["rev-parse", "--verify", "--quiet", "\(revision)^{commit}"], in: top)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let listing = try git(["ls-tree", "--name-only", commit, "--", relative + "/"], in: top)
        var files: [(name: String, text: String, source: String)] = []
        for path in listing.split(separator: "\n").map(String.init).sorted() where path.hasSuffix(CronEntry.fileExtension) {
            let file = String(path.split(separator: "/").last ?? "")
            let text = try git(["show", "\(commit):\(path)"], in: top)
            files.append((String(file.dropLast(CronEntry.fileExtension.count)), text, "\(revision):\(path)"))
        }
        return try parse(files, origin: "\(revision):\(relative)")
    }

    private static func parse(_ files: [(name: String, text: String, source: String)], origin: String) throws -> [CronEntry] {
        guard !files.isEmpty else {
            throw EntryError(file: origin, line: nil, problem: "no *.cron entries; botops will not install an empty set (that would remove every managed entry). Use botops cron remove NAME to remove one.")
        }
        return try files.map { try CronEntry.parse($0.text, name: $0.name, source: $0.source) }
    }

    /// Runs git (argv, no shell) in `directory`; its stdout, or an error naming the revision problem.
    private static func git(_ arguments: [String], in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw EntryError(file: directory, line: nil, problem: "cannot run git: \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let detail = errorText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw EntryError(file: directory, line: nil, problem: "git \(arguments.first ?? "") failed\(detail.isEmpty ? " (no such revision?)" : ": \(detail)")")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
