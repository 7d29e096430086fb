import { Anchor, createTheme, type CSSVariablesResolver } from "@mantine/core";

export const theme = createTheme({
  primaryColor: "blue",
  // Darker shades than the defaults keep text on buttons above WCAG AA contrast.
  primaryShade: 8,
  defaultRadius: "sm",
  components: {
    // Links inside text must not rely on colour alone.
    Anchor: Anchor.extend({ defaultProps: { underline: "always" } }),
  },
});

// Mantine's "dimmed" grey is below 4.5:1 on white; a darker grey keeps secondary text readable.
export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: { "--mantine-color-dimmed": "#5c636a" },
  dark: {},
});
