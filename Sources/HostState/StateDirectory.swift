import Basics

/// botops' state directory on the host: `~/…` (the ssh user's home) or an absolute path.
public struct StateDirectory: Sendable, Equatable {
    public var path: String

    public init(path: String) {
        self.path = path
    }

    public static func validate(_ path: String) -> String? {
        let rest = path.hasPrefix("~/") ? String(path.dropFirst(2)) : path
        let ok = (path.hasPrefix("/") || path.hasPrefix("~/")) && !rest.isEmpty && !rest.split(separator: "/").contains("..")
        return ok ? nil : "expected an absolute path or one under ~/, without '..'"
    }

    /// Under `~/` the directory is the ssh user's alone (700, files 600). An absolute path may be
    /// shared by a group (CI's user and the operator's): directories 2770, files 660, so both see
    /// one lock, one audit and one release record.
    public var isShared: Bool { !path.hasPrefix("~/") }

    /// Sets the umask for the files that follow and creates the directory with its modes; run it
    /// in the shell (or subshell) that writes them.
    public var prepare: ShellScript {
        isShared
            ? "umask 007 && { [ -d \(script) ] || { mkdir -p \(script) && chmod 2770 \(script); }; }"
            : "umask 077 && mkdir -p \(script)"
    }

    /// The directory as a shell word: `~/` becomes `"$HOME"/`, the rest is quoted.
    public var script: ShellScript { file(nil) }

    /// A file inside the directory, as a shell word.
    public func file(_ name: String?) -> ShellScript {
        let full = name.map { path + "/" + $0 } ?? path
        if full.hasPrefix("~/") {
            return "\"$HOME\"/\(String(full.dropFirst(2)))"
        }
        return "\(full)"
    }
}
