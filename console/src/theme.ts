import { Alert, Anchor, Modal, MultiSelect, Notification, Select, createTheme, type CSSVariablesResolver } from "@mantine/core";

export const theme = createTheme({
  primaryColor: "blue",
  // Darker shades than the defaults keep text on buttons above WCAG AA contrast.
  primaryShade: 8,
  defaultRadius: "sm",
  components: {
    // Links inside text must not rely on colour alone.
    Anchor: Anchor.extend({ defaultProps: { underline: "always" } }),
    // The close button is an icon: it needs a name.
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close" } } }),
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close" } } }),
    Select: Select.extend({ defaultProps: { clearButtonProps: { "aria-label": "Clear" } } }),
    MultiSelect: MultiSelect.extend({ defaultProps: { clearButtonProps: { "aria-label": "Clear" } } }),
    // Light alerts' coloured titles fall below 4.5:1; the colour stays on the background.
    Alert: Alert.extend({ styles: { title: { color: "var(--mantine-color-black)" } } }),
  },
});

// Mantine's "dimmed" grey is below 4.5:1 on white; a darker grey keeps secondary text readable.
export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: { "--mantine-color-dimmed": "#5c636a" },
  dark: {},
});
