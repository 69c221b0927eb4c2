"""The Dash central station: pages, components, figures, theme and the live push."""
