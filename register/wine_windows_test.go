package register

import _ "travelkit/internal/winetest" // Wine 8.0 needs a file-removal fallback
