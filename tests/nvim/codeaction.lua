-- Headless Neovim 0.7+ client for the codeloop end-to-end test.
-- Starts `codeloop serve` with vim.lsp.start_client (the 0.7 API, still present later),
-- opens a Python file, asks for code actions on line 1 and waits for diagnostics, then
-- writes what it saw to $CODELOOP_NVIM_OUT (one item per line) and quits.

local out_path = os.getenv("CODELOOP_NVIM_OUT")
local lines = {}

local function finish()
  local f = assert(io.open(out_path, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  vim.cmd("qa!")
end

local ok, err = pcall(function()
  local cmd = vim.fn.json_decode(os.getenv("CODELOOP_NVIM_CMD"))
  local root = os.getenv("CODELOOP_NVIM_ROOT")
  local file = os.getenv("CODELOOP_NVIM_FILE")

  local client_id = vim.lsp.start_client({
    name = "codeloop",
    cmd = cmd,
    root_dir = root,
    settings = { codeloop = { logLevel = "info" } },
  })
  assert(client_id, "vim.lsp.start_client failed")

  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].filetype = "python"
  vim.lsp.buf_attach_client(bufnr, client_id)

  local ready = vim.wait(60000, function()
    local client = vim.lsp.get_client_by_id(client_id)
    return client ~= nil and client.initialized == true
  end, 50)
  assert(ready, "the server did not finish initialize")

  local params = {
    textDocument = vim.lsp.util.make_text_document_params(bufnr),
    range = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 0 } },
    context = { diagnostics = {} },
  }
  local responses, request_err = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, 60000)
  assert(responses, "no code action response: " .. tostring(request_err))
  for _, response in pairs(responses) do
    if response.err then
      table.insert(lines, "ERROR " .. vim.inspect(response.err))
    end
    for _, action in ipairs(response.result or {}) do
      table.insert(lines, "ACTION " .. action.title .. " -> " .. ((action.command or {}).command or "?"))
    end
  end

  vim.wait(30000, function()
    return #vim.diagnostic.get(bufnr) > 0
  end, 50)
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or "?"
    table.insert(lines, "DIAGNOSTIC " .. tostring(code) .. " line " .. d.lnum)
  end
  table.insert(lines, "DONE")
end)

if not ok then
  table.insert(lines, "LUAERROR " .. tostring(err))
end
finish()
