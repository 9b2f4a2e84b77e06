import HostCommands
import Remote

/// What the host offers a binary: its machine, its glibc and the shared libraries its loader
/// knows. One probe, one round trip; `ldconfig` is looked up in /sbin too, where Debian keeps it
/// outside an ordinary user's PATH.
public struct HostRuntime: Sendable, Equatable {
    public var machine: String
    /// Nil when `ldd --version` said nothing usable (a musl host, say).
    public var glibc: GlibcVersion?
    /// The sonames `ldconfig -p` lists (`libssh2.so.1`), nil when ldconfig could not be run.
    public var libraries: Set<String>?

    public init(machine: String, glibc: GlibcVersion?, libraries: Set<String>?) {
        self.machine = machine
        self.glibc = glibc
        self.libraries = libraries
    }

    public struct Probe: Sendable {
        let marker = SectionMarker()

        public init() {}

        public var command: ShellScript {
            ShellScript.lines([
                marker.start("machine"), "uname -m",
                marker.start("glibc"), "ldd --version 2>&1 | head -n 1",
                marker.start("libraries"),
                "PATH=\"$PATH:/sbin:/usr/sbin\" ldconfig -p 2>/dev/null || echo '@@no-ldconfig'",
                marker.start("end"),
            ])
        }

        /// `command` run alone, parsed.
        public var hostProbe: HostProbe<HostRuntime> {
            HostProbe("the host's runtime", RemoteCommand(command, timeout: .seconds(30))) { parse($0.stdoutText) }
        }

        public func parse(_ output: String) -> HostRuntime {
            let sections = marker.split(output)
            let machine = sections["machine"]?.first?.trimmingCharacters(in: .whitespaces) ?? ""
            // "ldd (Debian GLIBC 2.36-9+deb12u4) 2.36": the last word is the version.
            let glibc = sections["glibc"]?.first?.split(separator: " ").last.flatMap { GlibcVersion(String($0)) }
            let lines = sections["libraries"] ?? []
            let host = machine == "arm64" ? "aarch64" : machine
            // Another architecture's copy (multiarch: i386's "(libc6)") is none for this machine's binary.
            let flag = ["x86_64": "x86-64", "aarch64": "AArch64"][host]
            var libraries: Set<String>? = Set(lines.compactMap { line -> String? in
                // "\tlibssh2.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libssh2.so.1"
                let trimmed = line.drop { $0 == " " || $0 == "\t" }
                guard let arrow = trimmed.range(of: " => "), let name = trimmed.split(separator: " ").first else { return nil }
                if let flag, !trimmed[..<arrow.lowerBound].contains(flag) { return nil }
                return String(name)
            })
            if lines.contains("@@no-ldconfig") { libraries = nil }
            return HostRuntime(machine: host, glibc: glibc, libraries: libraries)
        }
    }
}

/// Why a binary cannot run on a host, each with what to do about it.
public enum RuntimeProblem: Sendable, Equatable, CustomStringConvertible {
    case swiftRuntime([String])
    case machine(binary: String, host: String)
    case glibc(needed: GlibcVersion, host: GlibcVersion?)
    case missingLibrary(String)
    case unknownLibraries

    public var description: String {
        switch self {
        case .swiftRuntime(let libraries):
            return "it needs the Swift runtime's shared libraries (\(libraries.joined(separator: ", "))), which the host does not have: "
                + "build it with `swift build -c release --static-swift-stdlib --product botops` and pass that (.build/release/botops)"
        case .machine(let binary, let host):
            return "it is built for \(binary) and the host is \(host): build it on (or in a container for) \(host)"
        case .glibc(let needed, let host):
            return "it needs glibc \(needed) and the host has \(host.map { "\($0)" } ?? "no glibc that ldd reports"): "
                + "build it on a system no newer than the host (a swift:6.x-bookworm container for Debian 12), or upgrade the host's libc6"
        case .missingLibrary(let name):
            let package = Self.debianPackages[name].map { "install the Debian package \($0) (apt-get install \($0))" }
                ?? "install the package that provides it (apt-file search \(name))"
            return "the host has no \(name): \(package)"
        case .unknownLibraries:
            return "the host's shared libraries could not be listed (ldconfig -p failed): run `ldconfig -p` there to see why"
        }
    }

    /// The Debian packages of the libraries botops and bot-engine link.
    static let debianPackages = [
        "libssh2.so.1": "libssh2-1", "libcrypto.so.3": "libssl3", "libssl.so.3": "libssl3", "libpq.so.5": "libpq5",
        "libz.so.1": "zlib1g", "libstdc++.so.6": "libstdc++6", "libgcc_s.so.1": "libgcc-s1",
        "libc.so.6": "libc6", "libm.so.6": "libc6",
    ]
}

extension HostRuntime {
    /// Everything that keeps `binary` from running here; empty when it can run.
    public func problems(running binary: ELFFacts) -> [RuntimeProblem] {
        var problems: [RuntimeProblem] = []
        let swift = binary.swiftRuntimeLibraries
        if !swift.isEmpty { problems.append(.swiftRuntime(swift)) }
        if binary.machine != machine { problems.append(.machine(binary: binary.machine, host: machine)) }
        if let needed = binary.glibc, glibc.map({ $0 < needed }) ?? true { problems.append(.glibc(needed: needed, host: glibc)) }
        guard let libraries else { return problems + [.unknownLibraries] }
        // The dynamic loader is not a library ldconfig lists under its NEEDED spelling.
        for name in binary.needed where !swift.contains(name) && !name.hasPrefix("ld-linux") && !libraries.contains(name) {
            problems.append(.missingLibrary(name))
        }
        return problems
    }
}
