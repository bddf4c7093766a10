-- codeloop in Neovim 0.7 (vim.lsp.start_client): one client for every Python buffer.
local codeloop_client = nil

vim.api.nvim_create_autocmd("FileType", {
  pattern = "python",
  callback = function(args)
    if codeloop_client == nil then
      local dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(args.buf), ":p:h")
      local marker = vim.fn.findfile("pyproject.toml", dir .. ";")
      codeloop_client = vim.lsp.start_client({
        name = "codeloop",
        cmd = { "codeloop", "serve" },
        root_dir = marker ~= "" and vim.fn.fnamemodify(marker, ":p:h") or dir,
        settings = { codeloop = { model = { name = "gpt-4o-mini" }, tests = { runOnSave = true } } },
        -- 0.7 never sends the settings by itself: push them once the server is up.
        on_init = function(client)
          client.notify("workspace/didChangeConfiguration", { settings = client.config.settings })
        end,
      })
    end
    vim.lsp.buf_attach_client(args.buf, codeloop_client)
  end,
})
