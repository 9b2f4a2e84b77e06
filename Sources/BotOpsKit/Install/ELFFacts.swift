import Foundation

/// What a Linux executable needs from the host that runs it, read from its ELF headers: the
/// machine, the shared libraries it names (DT_NEEDED) and the glibc symbol versions it asks for
/// (`.gnu.version_r`). Only 64-bit little-endian ELF (x86_64, aarch64), what Swift builds for Linux.
public struct ELFFacts: Sendable, Equatable {
    /// `uname -m`'s spelling: x86_64, aarch64, or `e_machine N` for anything else.
    public var machine: String
    public var needed: [String]
    /// The highest `GLIBC_x.y` version asked for, nil when none (a fully static binary).
    public var glibc: GlibcVersion?

    public init(machine: String, needed: [String], glibc: GlibcVersion?) {
        self.machine = machine
        self.needed = needed
        self.glibc = glibc
    }

    public init(path: String) throws {
        // Mapped, not read: a release build is ~90 MB and only its headers are looked at.
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
            throw ELFError(path: path, problem: "cannot be read")
        }
        try self.init(bytes: data, path: path)
    }

    init(bytes: Data, path: String) throws {
        let file = ELFReader(bytes: bytes)
        guard bytes.count >= 64, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else {
            throw ELFError(path: path, problem: "is not a Linux executable (no ELF header): pass --binary a botops built on Linux")
        }
        guard bytes[4] == 2, bytes[5] == 1 else {
            throw ELFError(path: path, problem: "is not a 64-bit little-endian ELF file")
        }
        switch file.u16(18) {
        case 62: machine = "x86_64"
        case 183: machine = "aarch64"
        case let other: machine = "e_machine \(other)"
        }
        let sectionTable = Int(min(file.u64(40), UInt64(bytes.count)))
        let sectionSize = Int(file.u16(58))
        let sectionCount = Int(file.u16(60))
        guard sectionSize == 64, sectionTable + sectionCount * 64 <= bytes.count else {
            throw ELFError(path: path, problem: "has a damaged section table")
        }
        let sections = (0..<sectionCount).map { ELFSection(file, at: sectionTable + $0 * 64) }
        var needed: [String] = []
        var glibc: GlibcVersion?
        for section in sections where section.link < sections.count {
            let strings = sections[section.link]
            switch section.type {
            case 6: // SHT_DYNAMIC: (tag, value) pairs; DT_NEEDED is 1, DT_NULL 0 ends them.
                for entry in stride(from: section.offset, to: min(section.offset + section.size, bytes.count - 15), by: 16) {
                    let tag = file.u64(entry)
                    if tag == 0 { break }
                    if tag == 1 { needed.append(file.string(at: strings.offset, plus: file.u64(entry + 8))) }
                }
            case 0x6fff_fffe: // SHT_GNU_verneed: Verneed records, each with a chain of Vernaux names.
                var record = section.offset
                // Bounded by the file as well as by the counts, which a damaged file may inflate.
                for _ in 0..<min(section.info, bytes.count / 16) {
                    guard record + 16 <= bytes.count else { break }
                    var aux = record + Int(file.u32(record + 8))
                    for _ in 0..<Int(file.u16(record + 2)) {
                        guard aux + 16 <= bytes.count else { break }
                        let name = file.string(at: strings.offset, plus: UInt64(file.u32(aux + 8)))
                        if let version = GlibcVersion(symbolVersion: name), glibc.map({ version > $0 }) ?? true { glibc = version }
                        aux += Int(file.u32(aux + 12))
                    }
                    let next = Int(file.u32(record + 12))
                    if next == 0 { break }
                    record += next
                }
            default:
                continue
            }
        }
        self.needed = needed
        self.glibc = glibc
    }

    /// The Swift runtime's shared libraries among `needed`: a binary built without
    /// `--static-swift-stdlib` runs only where a Swift toolchain is installed.
    public var swiftRuntimeLibraries: [String] {
        needed.filter { $0.hasPrefix("libswift") || $0.hasPrefix("libFoundation") || $0.hasPrefix("lib_Foundation") || $0 == "libdispatch.so" || $0 == "libBlocksRuntime.so" }
    }
}

/// A glibc version, `2.36`, ordered numerically.
public struct GlibcVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var parts: [Int]

    public init?(_ text: String) {
        let parts = text.split(separator: ".").map { Int($0) }
        guard parts.count >= 2, parts.allSatisfy({ $0 != nil }) else { return nil }
        self.parts = parts.compactMap { $0 }
    }

    /// `GLIBC_2.34`; nil for `GLIBC_PRIVATE`, `GCC_3.0` and the like.
    init?(symbolVersion: String) {
        guard symbolVersion.hasPrefix("GLIBC_") else { return nil }
        self.init(String(symbolVersion.dropFirst(6)))
    }

    public var description: String { parts.map(String.init).joined(separator: ".") }

    public static func < (lhs: GlibcVersion, rhs: GlibcVersion) -> Bool {
        lhs.parts.lexicographicallyPrecedes(rhs.parts)
    }
}

public struct ELFError: Error, CustomStringConvertible, ExitCodeProviding {
    public var path: String
    public var problem: String

    public var description: String { "\(path) \(problem)" }
    public var exitCode: BotOpsExitCode { .usage }
}

private struct ELFSection {
    var type: UInt32
    var offset: Int
    var size: Int
    var link: Int
    var info: Int

    init(_ file: ELFReader, at header: Int) {
        type = file.u32(header + 4)
        // Clamped to the file, so no sum of them can overflow.
        offset = Int(min(file.u64(header + 24), UInt64(file.bytes.count)))
        size = Int(min(file.u64(header + 32), UInt64(file.bytes.count)))
        link = Int(file.u32(header + 40))
        info = Int(file.u32(header + 44))
    }
}

/// Little-endian reads that yield 0 or "" past the end instead of trapping: a damaged file is
/// judged on what it holds, never crashes botops.
private struct ELFReader {
    let bytes: Data

    func u16(_ at: Int) -> UInt16 { UInt16(truncatingIfNeeded: read(at, 2)) }
    func u32(_ at: Int) -> UInt32 { UInt32(truncatingIfNeeded: read(at, 4)) }
    func u64(_ at: Int) -> UInt64 { read(at, 8) }

    private func read(_ at: Int, _ count: Int) -> UInt64 {
        guard at >= 0, at + count <= bytes.count else { return 0 }
        return (0..<count).reversed().reduce(0) { $0 << 8 | UInt64(bytes[at + $1]) }
    }

    /// The NUL-terminated string at `base + offset` (a string table and an index into it).
    func string(at base: Int, plus offset: UInt64) -> String {
        guard offset < UInt64(bytes.count), base + Int(offset) < bytes.count else { return "" }
        let at = base + Int(offset)
        let end = bytes[at...].firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes.subdata(in: at..<end), as: UTF8.self)
    }
}
