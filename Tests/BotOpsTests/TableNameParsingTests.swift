import BotOpsKit
import Testing

/// `--tables` names that need quoting: a space, a dot, a comma, a quote, upper case.
struct TableNameParsingTests {
    typealias Name = TableOfContents.TableName

    @Test func quotedPartsHoldSpacesDotsCommasAndDoubledQuotes() throws {
        #expect(try Name.list(parsing: #""My Schema"."Trade Links""#) == [Name(schema: "My Schema", name: "Trade Links")])
        #expect(try Name.list(parsing: #"trade_records, "My Schema"."a.b, ""c""" , Other.T"#)
                == [Name(schema: "public", name: "trade_records"), Name(schema: "My Schema", name: #"a.b, "c""#), Name(schema: "Other", name: "T")])
        #expect(try Name.list(parsing: #""Trade Links""#) == [Name(schema: "public", name: "Trade Links")])
        #expect(try Name.list(parsing: "BotopsOdd.Odd $$Na'me") == [Name(schema: "BotopsOdd", name: "Odd $$Na'me")])
    }

    @Test(arguments: [#""unclosed"#, "a.b.c", "a,,b", #"x"y""#, #""a"b"#, ""])
    func malformedNamesAreRefused(_ text: String) {
        #expect(throws: Name.NameError.self) { try Name.list(parsing: text) }
    }

    /// pg_restore lists names unquoted: a schema with a space is told by the dump's SCHEMA entry.
    @Test func aSchemaAndTableWithSpacesAreFoundInTheTableOfContents() throws {
        let contents = TableOfContents(verboseList: """
            6; 2615 346858 SCHEMA - My Schema botops_test
            215; 1259 346859 TABLE My Schema Trade Links botops_test
            ;\tdepends on: 6
            3351; 0 346859 TABLE DATA My Schema Trade Links botops_test
            ;\tdepends on: 215
            3206; 2606 346865 CONSTRAINT My Schema Trade Links Trade Links_pkey botops_test
            ;\tdepends on: 215
            """)
        #expect(contents.entries.map(\.schema) == ["-", "My Schema", "My Schema", "My Schema"])
        let selection = try contents.selection(for: Name.list(parsing: #""My Schema"."Trade Links""#))
        #expect(selection.entries.map(\.id) == [215, 3351, 3206])
    }
}
