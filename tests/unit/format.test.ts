/** Money on the pages is rounded half up to the cent from the stored 6 decimals, as a spreadsheet rounds the CSV. */
import { describe, expect, it } from "vitest";
import { money } from "@/app/_components/format.ts";

describe("money", () => {
  it("rounds stored amounts half up to the cent, undoing binary error", () => {
    expect(money(1.005, "USD")).toBe("1.01 USD"); // (1.005).toFixed(2) is "1.00"
    expect(money(2.675, "USD")).toBe("2.68 USD");
    expect(money(1234.564999, "USD")).toBe("1234.56 USD");
    expect(money(0.1 + 0.2, "EUR")).toBe("0.30 EUR");
    expect(money(0, "USD")).toBe("0.00 USD");
    expect(money(99999.995, "USD")).toBe("100000.00 USD");
    expect(money(-1.005, "USD")).toBe("-1.01 USD");
    expect(money(-0.001, "USD")).toBe("0.00 USD");
  });
});
