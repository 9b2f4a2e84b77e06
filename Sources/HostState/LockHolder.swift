import Basics
import Foundation

/// Who holds the deploy lock, kept in `holder.json` in the state directory while they hold it.
/// Left behind by a deploy that died, it names the interrupted deploy and the step it reached.
public struct LockHolder: Codable, Sendable, Equatable {
    /// Local account and machine that ran botops.
    public var user: String
    public var machine: String
    public var pid: Int32
    public var command: String
    /// The revision being deployed, once known.
    public var revision: String?
    public var step: String
    /// Epoch seconds (the deploying machine's clock).
    public var startedAt: Int
    /// Seconds since the holder last recorded progress, by the host's clock (not stored).
    public var idleSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case user, machine, pid, command, revision, step
        case startedAt = "started_at"
    }

    public init(user: String, machine: String, pid: Int32, command: String, revision: String? = nil, step: String, startedAt: Int) {
        self.user = user
        self.machine = machine
        self.pid = pid
        self.command = command
        self.revision = revision
        self.step = step
        self.startedAt = startedAt
    }

    /// This process, now.
    public static func current(command: String, step: String = "lock") -> LockHolder {
        LockHolder(user: localUserName(), machine: ProcessInfo.processInfo.hostName, pid: getpid(), command: command,
                   step: step, startedAt: Int(Date().timeIntervalSince1970))
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    static func parse(_ json: String) -> LockHolder? {
        try? JSONDecoder().decode(LockHolder.self, from: Data(json.utf8))
    }

    var ageText: String { idleSeconds.map { "\($0) s" } ?? "an unknown time" }

    /// "idle since 2026-11-22T19:31:44Z (3600 s)": when the holder last recorded progress.
    public var idleText: String {
        guard let idleSeconds else { return "idle for an unknown time" }
        return "idle since \(formatUTC(Int(Date().timeIntervalSince1970) - idleSeconds)) (\(idleSeconds) s)"
    }

    /// "alice@laptop (pid 4242): botops deploy --service sighook, step build, since 2026-11-22T19:31:44Z"
    public var summary: String {
        var text = "\(user)@\(machine) (pid \(pid)): \(command), step \(step)"
        if let revision { text += " at \(revision.prefix(12))" }
        return text + ", since \(formatUTC(startedAt))"
    }
}

/// The local login name, for holder records and the audit.
func localUserName() -> String {
    if let name = ProcessInfo.processInfo.environment["USER"], !name.isEmpty { return name }
    guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return "uid \(getuid())" }
    return String(cString: name)
}
