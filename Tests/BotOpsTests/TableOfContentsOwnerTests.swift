import BotOpsKit
import PropertyBased
import Testing

/// pg_restore lists an entry's owner last, unquoted: an owner whose name holds a space (or a
/// quote) is told from the entry's name only by the roles the server has.
struct TableOfContentsOwnerTests {
    /// Real `pg_restore --list --verbose` lines (PostgreSQL 15) of tables owned by `toc admin`
    /// and `toc "q" o'wner`.
    static let list = """
        3354; 0 0 ENCODING - ENCODING 
        3357; 1262 442508 DATABASE - toc_owner_probe botops_test
        216; 1259 442518 TABLE public Odd Table toc "q" o'wner
        215; 1259 442517 SEQUENCE public Odd Table_id_seq toc "q" o'wner
        ;\tdepends on: 216
        3358; 0 0 SEQUENCE OWNED BY public Odd Table_id_seq toc "q" o'wner
        ;\tdepends on: 215
        214; 1259 442509 TABLE public trade_links toc admin
        3359; 0 0 ACL public TABLE trade_links toc admin
        ;\tdepends on: 214
        3201; 2604 442521 DEFAULT public Odd Table id toc "q" o'wner
        ;\tdepends on: 215 216 216
        3351; 0 442518 TABLE DATA public Odd Table toc "q" o'wner
        ;\tdepends on: 216
        3349; 0 442509 TABLE DATA public trade_links toc admin
        ;\tdepends on: 214
        3360; 0 0 SEQUENCE SET public Odd Table_id_seq toc "q" o'wner
        ;\tdepends on: 215
        3206; 2606 442523 CONSTRAINT public Odd Table Odd Table_pkey toc "q" o'wner
        ;\tdepends on: 216
        3204; 2606 442515 CONSTRAINT public trade_links trade_links_pkey toc admin
        ;\tdepends on: 214
        3202; 1259 442516 INDEX public trade_links_note toc admin
        ;\tdepends on: 214
        """

    static let owners: Set<String> = ["botops_test", "toc admin", #"toc "q" o'wner"#, "toc"]

    @Test func ownersWithSpacesAndQuotesAreNotTakenForPartOfTheName() throws {
        let contents = TableOfContents(verboseList: Self.list, owners: Self.owners)
        let tags = Dictionary(contents.entries.map { ($0.id, $0.tag) }, uniquingKeysWith: { first, _ in first })
        #expect(tags[216] == "Odd Table" && tags[214] == "trade_links" && tags[3202] == "trade_links_note", "\(tags)")
        #expect(tags[3206] == "Odd Table Odd Table_pkey" && tags[3359] == "TABLE trade_links" && tags[3357] == "toc_owner_probe", "\(tags)")
        let links = try contents.selection(for: [.init(schema: "public", name: "trade_links")])
        #expect(links.entries.map(\.id) == [214, 3359, 3349, 3204, 3202])
        let odd = try contents.selection(for: [.init(schema: "public", name: "Odd Table")])
        #expect(Set(odd.entries.map(\.id)) == [216, 215, 3358, 3201, 3351, 3360, 3206])
        // Without the roles (the parser before owners were known), the owner's first words were
        // taken for the name and the table was not found.
        #expect(throws: TableOfContents.SelectionError.self) { try TableOfContents(verboseList: Self.list).selection(for: [.init(schema: "public", name: "trade_links")]) }
    }

    /// Any text, with or without owners: the parser never traps, and the selection either
    /// refuses with its error or names entries of the list.
    @Test func noInputCrashesTheParser() async {
        let pieces = ["1; ", "214; ", "0 0 ", "1259 442509 ", "TABLE ", "TABLE DATA ", "SEQUENCE OWNED BY ", "SCHEMA - ", "public ", "trade_links",
                      " ", "toc admin", "toc", #""q""#, "o'wner", ";\tdepends on: ", "214 ", "\n", "\t", ";", "-", ""]
        await propertyCheck(count: 2000, input: text(from: pieces, count: 0...40), Gen.bool) { input, withOwners in
            let contents = TableOfContents(verboseList: input, owners: withOwners ? Self.owners : [])
            let ids = Set(contents.entries.map(\.id))
            if let selection = try? contents.selection(for: [.init(schema: "public", name: "trade_links")]) {
                #expect(selection.entries.allSatisfy { ids.contains($0.id) }, "\(input)")
            }
        }
    }

    /// `links toc admin` with the roles `admin` and `toc admin`: the backup's table `links toc`
    /// owned by `admin`, not `links` owned by `toc admin` (the longest role read first took it so).
    @Test func aRoleWithASpaceThatEndsLikeTheTableDoesNotTakeItsName() throws {
        let list = """
            214; 1259 442509 TABLE public links toc admin
            3349; 0 442509 TABLE DATA public links toc admin
            ;\tdepends on: 214
            3204; 2606 442515 CONSTRAINT public links toc links toc_pkey admin
            ;\tdepends on: 214
            3202; 1259 442516 INDEX public links_note toc admin
            ;\tdepends on: 214
            """
        let contents = TableOfContents(verboseList: list, owners: ["admin", "toc admin"], tables: [.init(schema: "public", name: "links toc")])
        let selection = try contents.selection(for: [.init(schema: "public", name: "links toc")])
        #expect(selection.entries.map(\.id) == [214, 3349, 3204, 3202])
        #expect(contents.entries.map(\.owner) == ["admin", "admin", "admin", "admin"])
        #expect(selection.entries.map(\.tag) == ["links toc", "links toc", "links toc links toc_pkey", "links_note toc"])
    }

    /// Random role and table names (spaces, quotes, a role named like a table or ending like one):
    /// every table whose line reads only one way among the backup's tables is selected with
    /// exactly its entries, with its constraint's and index's names; one whose line could be
    /// another table's (`T1 R1` = `T2 R2`) is refused, never restored in another's place.
    @Test func tablesAreToldFromTheirOwnersOrRefused() async {
        await propertyCheck(count: 300, input: Gen.int64(in: 0...Int64.max)) { seed in
            var random = RetentionTests.Random(state: UInt64(seed))
            let words = ["a", "links", "toc", "admin", #""q""#, "o'w", "trade_links"]
            func name() -> String { (0...random.below(3)).map { _ in words[random.below(UInt64(words.count))] }.joined(separator: " ") }
            let roles = Set((0...random.below(4)).map { _ in name() })
            let tables = Array(Set((0...random.below(3)).map { _ in name() })).sorted()
            let owners = tables.map { _ in roles.sorted()[random.below(UInt64(roles.count))] }
            var list = ""
            for (index, (table, owner)) in zip(tables, owners).enumerated() {
                let id = 100 + index * 10
                list += "\(id); 1259 \(id) TABLE public \(table) \(owner)\n"
                list += "\(id + 1); 0 \(id) TABLE DATA public \(table) \(owner)\n;\tdepends on: \(id)\n"
                list += "\(id + 2); 2606 \(id + 2) CONSTRAINT public \(table) \(table)_pkey \(owner)\n;\tdepends on: \(id)\n"
                list += "\(id + 3); 1259 \(id + 3) INDEX public \(table)_idx \(owner)\n;\tdepends on: \(id)\n"
            }
            let known = Set(tables.map { TableOfContents.TableName(schema: "public", name: $0) })
            let contents = TableOfContents(verboseList: list, owners: roles, tables: known)
            // The plain reference: the backup's tables each TABLE line can be read as.
            let readings = zip(tables, owners).map { table, owner in
                Set(tables.filter { other in roles.contains { other + " " + $0 == table + " " + owner } })
            }
            for (index, table) in tables.enumerated() {
                let unclear = readings.contains { $0.count > 1 && $0.contains(table) }
                let name = TableOfContents.TableName(schema: "public", name: table)
                let context = "roles \(roles.sorted()), tables \(tables) owned by \(owners)"
                do {
                    let selection = try contents.selection(for: [name])
                    let id = 100 + index * 10
                    #expect(!unclear, "selected although its line reads two ways: \(context)")
                    #expect(selection.entries.map(\.id) == [id, id + 1, id + 2, id + 3], "\(context)")
                    #expect(selection.entries.map(\.tag) == [table, table, table + " " + table + "_pkey", table + "_idx"], "\(context)")
                } catch TableOfContents.SelectionError.ownerUnclear(let names) {
                    #expect(unclear && names == [name], "refused although its line reads one way: \(context)")
                } catch {
                    Issue.record("\(error): \(context)")
                }
            }
        }
    }
}

